// Throughput and memory figures of FineTuneImageClassifier on the CPU (a program that prints, not a test):
//   1. Fit on an IDataView vs a plain TorchSharp loop over pre-built tensors (target ratio ≥ 0.9),
//      and where Fit's time goes;
//   2. inference: ONNX Runtime on the exported model vs TorchSharp eval forward (target ≥ 1.5×), and
//      ML.NET's row-at-a-time Transform for reference;
//   3. peak memory after each phase, and a leak check over many small training steps.
//
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks [-- --quick | --image-size 64 --images 256 ...]
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- text [--quick]   (text classifier: TextBenchmark.cs)
//   ... -- [text] --gpu 0 [--precision auto|float32|bfloat16]   (training and TorchSharp on CUDA: GpuImageBenchmark.cs, GpuTextBenchmark.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- text-onnx        (its ONNX Runtime side: TextOnnxBenchmark.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- scalar-lifetime  (TorchSharp's scalar race: ScalarLifetime.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- tensor-lifetime  (the same race for tensors, a process per case: TensorLifetime.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- optimizer [--gpu 0] (the AdamW step alone, TorchSharp's against FlatAdamW: OptimizerStep.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- channels-last [--gpu 0] (is the layout right and faster here: ChannelsLast.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- openmp-teams [--control] (one libtorch operation on a second thread slows the steps: OpenMpTeams.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- serve            (samples/OnnxServing under load: ServingLoad.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- leak             (resident memory over 2,000 steps of each estimator: LongRunMemory.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- cpu-peer         (Fit against Debian's PyTorch on the same CPU, interleaved: CpuPeer.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- cpu-peer-text    (the same for LoRA on MiniLM-L6: CpuPeerText.cs)
//   dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- determinism [--gpu 0] (same seed twice, resumed mid-epoch: Determinism.cs)
using System.Globalization;
using Microsoft.ML;
using MLNet.FineTuning;
using MLNet.FineTuning.Benchmarks;
using MLNet.FineTuning.Pretrained;
using TorchSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "text-onnx")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(TextOnnxBenchmark.Usage); return 0; }
    return TextOnnxBenchmark.Run(args[1..], RepoRoot(null));
}
if (args.Length > 0 && args[0] == "scalar-lifetime") return ScalarLifetime.Run(args[1..]);
if (args.Length > 0 && args[0] == "tensor-lifetime")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(TensorLifetime.Usage); return 0; }
    return TensorLifetime.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "channels-last")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(ChannelsLast.Usage); return 0; }
    return ChannelsLast.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "openmp-teams")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(OpenMpTeams.Usage); return 0; }
    return OpenMpTeams.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "optimizer")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(OptimizerStep.Usage); return 0; }
    return OptimizerStep.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "serve")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(ServingLoad.Usage); return 0; }
    return ServingLoad.Run(args[1..], RepoRoot(null), CommandLine(args));
}
if (args.Length > 0 && args[0] == "leak")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(LongRunMemory.Usage); return 0; }
    return LongRunMemory.Run(args[1..], RepoRoot(null), CommandLine(args));
}
if (args.Length > 0 && args[0] == "cpu-peer")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(CpuPeer.Usage); return 0; }
    return CpuPeer.Run(args[1..], RepoRoot(null), CommandLine(args));
}
if (args.Length > 0 && args[0] == "cpu-peer-text")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(CpuPeerText.Usage); return 0; }
    return CpuPeerText.Run(args[1..], RepoRoot(null), CommandLine(args));
}
if (args.Length > 0 && args[0] == "data-path")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(DataPath.Usage); return 0; }
    return DataPath.Run(args[1..], RepoRoot(null), CommandLine(args));
}
if (args.Length > 0 && args[0] == "determinism")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(Determinism.Usage); return 0; }
    return Determinism.Run(args[1..], RepoRoot(CommandArgs.Value(args, "--repo")), CommandLine(args));
}
if (args.Length > 0 && args[0] == "text")
{
    if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(TextBenchmark.Usage); return 0; }
    return TextBenchmark.Run(args[1..], CommandLine(args), RepoRoot);
}
if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(BenchmarkOptions.Usage); return 0; }
BenchmarkOptions o;
try { o = BenchmarkOptions.Parse(args); }
catch (ArgumentException e) { Console.Error.WriteLine(e.Message); return 2; }
if (o.Gpu is int gpuId)
{
    GpuSetup gpu;
    try { gpu = GpuSetup.Select(gpuId, o.GpuDryRun); }
    catch (InvalidOperationException e) { Console.Error.WriteLine(GpuSetup.Refusal(gpuId, e)); return 2; }
    return GpuImageBenchmark.Run(o, gpu, CommandLine(args), RepoRoot(o.Repo));
}

if (o.Threads is int t) torch.set_num_threads(t);
int threads = torch.get_num_threads();
var started = DateTime.UtcNow;
string command = CommandLine(args);
string loadAtStart = LoadAverage();
Console.WriteLine($"MLNet.FineTuning benchmarks, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores (load average {loadAtStart}), torch threads {threads}, {(o.Quick ? "quick" : "full")} run");
Console.WriteLine($"  device cpu, precision {BenchmarkOptions.Describe(o.Precision, cuda: false)}");
Console.WriteLine($"  {command}");
Console.WriteLine($"  resnet18-mlnet pretrained, {o.ImageSize} px, batch {o.BatchSize}, {o.Images} images, 1 epoch, AdamW ({MLNet.FineTuning.Benchmarks.PlainLoop.DescribeRates()}), best of {o.Repeats}");

var ml = new MLContext(seed: 1);
using var tempFiles = TempFiles.For(ml);
var memory = new List<(string Phase, MemoryReading Reading)>();
void EndPhase(string phase)
{
    var m = ProcessMemory.Read(collectManaged: true);
    memory.Add((phase, m));
    Console.WriteLine($"  [memory, {phase}] {m} (live, after a full collection)");
    ProcessMemory.ResetPeak();
}
ProcessMemory.ResetPeak();

var data = BenchmarkData.Load(ml, Path.Combine(RepoRoot(o.Repo), "samples", "data", "fashion-mnist", "train"), o.Images, o.ImageSize);
Console.WriteLine($"\ndata: {data.Count} images of {data.ClassNames.Length} classes, decoded and centre-cropped to {o.ImageSize} px");
EndPhase("data loaded");

// ---- 1. Fit vs a plain TorchSharp loop -------------------------------------------------------------
Console.WriteLine("\n1. training throughput, one epoch");
var preprocessing = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).Preprocessing;
var plainBatches = data.Tensors(o.BatchSize, train: true, preprocessing);
var rawBatches = data.Tensors(o.BatchSize, train: true, normalise: null);
FitBenchmark.RunFit(ml, data, o, o.WarmupSteps * o.BatchSize);
FitBenchmark.RunPlain(data, plainBatches, o.WarmupSteps);   // warm-up
Console.WriteLine($"  warmed up ({o.WarmupSteps} steps each)");
FitRun? bestFit = null;
double bestPlain = 0;
var fitSteps = new List<double[]>();
var plainSteps = new List<double[]>();
FineTuneImageClassifierTransformer? fitted = null;
for (int r = 0; r < o.Repeats; r++)
{
    var fit = FitBenchmark.RunFit(ml, data, o, data.Count, m => { fitted?.Dispose(); fitted = m; });
    Console.WriteLine($"  run {r + 1}: Fit training phase {fit.TrainImagesPerSecond,6:F1} img/s (epoch-end report {fit.EpochEndImagesPerSecond:F1}), " +
                      $"whole Fit {fit.WholeSeconds:F1} s = {fit.WholeImagesPerSecond:F1} img/s; steps {string.Join(" ", fit.StepSeconds.Select(s => s.ToString("F2")))} s");
    var (plain, plainStepSeconds) = FitBenchmark.RunPlain(data, plainBatches);
    Console.WriteLine($"  run {r + 1}: plain TorchSharp loop {plain,6:F1} img/s; steps {string.Join(" ", plainStepSeconds.Select(s => s.ToString("F2")))} s");
    fitSteps.Add(fit.StepSeconds);
    plainSteps.Add(plainStepSeconds);
    if (bestFit == null || fit.TrainImagesPerSecond > bestFit.TrainImagesPerSecond) bestFit = fit;
    bestPlain = Math.Max(bestPlain, plain);
}
double fitRatio = bestFit!.TrainImagesPerSecond / bestPlain;
double fitMedian = FitBenchmark.MedianFullStep(fitSteps, data.Count, o.BatchSize), plainMedian = FitBenchmark.MedianFullStep(plainSteps, data.Count, o.BatchSize);
double medianRatio = plainMedian / fitMedian;
double fitFastest = FitBenchmark.FastestFullStep(fitSteps, data.Count, o.BatchSize), plainFastest = FitBenchmark.FastestFullStep(plainSteps, data.Count, o.BatchSize);
double fastestRatio = plainFastest / fitFastest;
Console.WriteLine($"  best: Fit {bestFit.TrainImagesPerSecond:F1} img/s, plain {bestPlain:F1} img/s, ratio {fitRatio:F2} (target ≥ 0.9)");
Console.WriteLine($"  median step of {o.BatchSize}: Fit {fitMedian:F3} s, plain {plainMedian:F3} s, ratio {medianRatio:F2}");
Console.WriteLine($"  fastest step of {o.BatchSize}: Fit {fitFastest:F3} s, plain {plainFastest:F3} s, ratio {fastestRatio:F2}");
var pairs = new List<(double Fit, double Plain)>();
for (int r = 0; r < o.Repeats; r++)
{
    var (fitPaired, plainPaired) = FitBenchmark.RunPaired(ml, data, o, plainBatches);
    var perStep = FitBenchmark.ImagesPerStep(data.Count, o.BatchSize);
    pairs.AddRange(fitPaired.Zip(plainPaired).Where((_, i) => perStep[i] == o.BatchSize));
    Console.WriteLine($"  paired run {r + 1} (Fit step, then a plain step): Fit {string.Join(" ", fitPaired.Select(s => s.ToString("F2")))} s; plain {string.Join(" ", plainPaired.Select(s => s.ToString("F2")))} s");
}
var pairRatios = pairs.Select(p => p.Plain / p.Fit).Order().ToArray();
double pairedRatio = pairRatios[pairRatios.Length / 2];
double pairedSumRatio = pairs.Sum(p => p.Plain) / pairs.Sum(p => p.Fit);
Console.WriteLine($"  paired: median of {pairRatios.Length} per-step ratios {pairedRatio:F2} (quartiles {pairRatios[pairRatios.Length / 4]:F2}–{pairRatios[3 * pairRatios.Length / 4]:F2}); " +
                  $"total plain / total Fit {pairedSumRatio:F2} (target ≥ 0.9)");
EndPhase("Fit and plain loop");

Console.WriteLine("\n1b. where Fit's time goes (its stages run one by one)");
var bd = FitBreakdown.Run(ml, data, o, rawBatches, o.Repeats);
double loopStep = bd.LoopImageSourceSeconds - bd.LoopImageSourceWaitSeconds;
Console.WriteLine($"  read + decode the IDataView (ImageDataset.Read)    {bd.ReadSeconds,7:F2} s");
Console.WriteLine($"  load pretrained weights (ResNet18.onnx → torch)    {bd.LoadWeightsSeconds,7:F2} s");
Console.WriteLine($"  ImageBatchSource alone (shuffle, resample)          {bd.ProduceImagesPerSecond,7:F0} img/s");
Console.WriteLine($"  ImageBatchSource, pixels kept (Fit's default)      {bd.ProduceKeptImagesPerSecond.Best,7:F0} img/s (first epoch, making them: {bd.ProduceKeptImagesPerSecond.First:F0} img/s; 0: the options change the images)");
Console.WriteLine($"  TrainingLoop + ImageBatchSource                    {bd.LoopImageSourceImagesPerSecond,7:F1} img/s ({bd.LoopImageSourceSeconds:F2} s, of which waiting for batches {bd.LoopImageSourceWaitSeconds:F3} s, steps {loopStep:F2} s)");
Console.WriteLine($"  TrainingLoop + pre-built tensors                   {bd.LoopTensorSourceImagesPerSecond,7:F1} img/s");
Console.WriteLine($"  plain TorchSharp loop (from part 1)                {bestPlain,7:F1} img/s");
Console.WriteLine($"  ONNX export                                        {bd.ExportSeconds,7:F2} s");
Console.WriteLine($"  ML.NET scoring chain (ImageScoringPipeline.Build)  {bd.ScoringBuildSeconds,7:F2} s");
EndPhase("Fit breakdown");

// ---- 2. inference -------------------------------------------------------------------------------------
Console.WriteLine($"\n2. CPU inference, batch {o.BatchSize}, {data.Count} images");
var inference = InferenceBenchmark.Run(ml, data, fitted!, o.BatchSize, threads, o.Repeats);
double inferenceRatio = inference.OnnxImagesPerSecond / inference.TorchImagesPerSecond;
Console.WriteLine($"  ONNX Runtime (InferenceSession, {inference.OnnxThreads} intra-op threads) {inference.OnnxImagesPerSecond,7:F1} img/s");
Console.WriteLine($"  TorchSharp eval forward (no_grad)                   {inference.TorchImagesPerSecond,7:F1} img/s");
Console.WriteLine($"  ratio ONNX Runtime / TorchSharp {inferenceRatio:F2} (target ≥ 1.5), median of per-batch ratios {inference.MedianBatchRatio:F2}; max |Δ probability| {inference.MaxProbabilityDifference:E1}");
Console.WriteLine($"  ML.NET Transform, row at a time (incl. decode)      {inference.TransformImagesPerSecond,7:F1} img/s");
fitted!.Dispose();
fitted = null;
EndPhase("inference");

// ---- 3. leak check ---------------------------------------------------------------------------------------
Console.WriteLine($"\n3. leak check: {o.LeakSteps} training steps through Fit, batch {o.LeakBatchSize}, {o.LeakImageSize} px");
var leak = LeakCheck.Run(ml, data, o.LeakSteps, o.LeakImageSize, o.LeakBatchSize, o.Precision);
Console.WriteLine($"  RSS (MiB) by step: {leak.Trace}");
Console.WriteLine($"  step {leak.FromStep,4}, cleaned up (baseline): RSS {leak.Baseline.Resident,6:F0} MiB, managed live {leak.Baseline.Managed,6:F1} MiB");
Console.WriteLine($"  step {leak.RunningFromStep,4}, as running:            RSS {leak.RunningFrom.Resident,6:F0} MiB");
Console.WriteLine($"  step {leak.Steps,4}, as running:            RSS {leak.EndRunning.Resident,6:F0} MiB");
Console.WriteLine($"  step {leak.Steps,4}, cleaned up:            RSS {leak.EndCleaned.Resident,6:F0} MiB, managed live {leak.EndCleaned.Managed,6:F1} MiB");
Console.WriteLine($"  growth per 100 steps: as running {leak.RunningGrowthPer100Steps:+0.0;-0.0} MiB, held (after clean-up) {leak.HeldGrowthPer100Steps:+0.0;-0.0} MiB, " +
                  $"managed {leak.ManagedGrowthPer100Steps:+0.0;-0.0} MiB{(leak.Trimmed ? "" : " (no glibc: malloc not trimmed)")} ({leak.Seconds:F0} s)");
EndPhase("leak check");

// ---- summary ------------------------------------------------------------------------------------------------
Console.WriteLine($"\n== summary ({started:yyyy-MM-dd}, {Environment.ProcessorCount} cores, torch threads {threads}; load average {loadAtStart} at the start, {LoadAverage()} at the end; {(DateTime.UtcNow - started).TotalMinutes:F1} min) ==");
Console.WriteLine($"command: {command}");
Console.WriteLine("| figure | value |");
Console.WriteLine("|---|---|");
Row("Fit, training phase (Progress)", $"{bestFit.TrainImagesPerSecond:F1} img/s");
Row("Fit, whole call (read, load, train, export)", $"{bestFit.WholeImagesPerSecond:F1} img/s ({bestFit.WholeSeconds:F1} s)");
Row("plain TorchSharp loop", $"{bestPlain:F1} img/s");
Row("**ratio Fit / plain, paired steps** (median of per-step ratios; target ≥ 0.9)", $"**{pairedRatio:F2}** (quartiles {pairRatios[pairRatios.Length / 4]:F2}–{pairRatios[3 * pairRatios.Length / 4]:F2}; totals {pairedSumRatio:F2}; {pairRatios.Length} pairs)");
Row("ratio Fit / plain, best epochs", $"{fitRatio:F2}");
Row("ratio Fit / plain, median step time", $"{medianRatio:F2} ({fitMedian:F3} s vs {plainMedian:F3} s per batch of {o.BatchSize})");
Row("ratio Fit / plain, fastest step time", $"{fastestRatio:F2} ({fitFastest:F3} s vs {plainFastest:F3} s)");
Row("TrainingLoop + pre-built tensors", $"{bd.LoopTensorSourceImagesPerSecond:F1} img/s");
Row("ImageBatchSource alone, resampling / pixels kept", $"{bd.ProduceImagesPerSecond:F0} / {bd.ProduceKeptImagesPerSecond.Best:F0} img/s");
Row("ONNX Runtime inference", $"{inference.OnnxImagesPerSecond:F1} img/s");
Row("TorchSharp eval inference", $"{inference.TorchImagesPerSecond:F1} img/s");
Row("**ratio ONNX Runtime / TorchSharp** (target ≥ 1.5)", $"**{inferenceRatio:F2}** (median of per-batch ratios {inference.MedianBatchRatio:F2})");
Row("ML.NET Transform (row at a time)", $"{inference.TransformImagesPerSecond:F1} img/s");
foreach (var (phase, m) in memory)
    Row($"memory: {phase}", $"peak RSS {m.Peak:F0} MiB{(ProcessMemory.PeakIsPerPhase ? " (in the phase)" : " (since start)")}, RSS {m.Resident:F0} MiB, managed live {m.Managed:F1} MiB");
Row($"leak check, RSS step {leak.RunningFromStep} → {leak.Steps} as running", $"{leak.RunningFrom.Resident:F0} → {leak.EndRunning.Resident:F0} MiB ({leak.RunningGrowthPer100Steps:+0.0;-0.0} MiB / 100 steps)");
Row($"leak check, RSS step {leak.FromStep} → {leak.Steps} held (after GC, finalizers, malloc_trim)", $"{leak.Baseline.Resident:F0} → {leak.EndCleaned.Resident:F0} MiB ({leak.HeldGrowthPer100Steps:+0.0;-0.0} MiB / 100 steps)");
Row("leak check, managed live", $"{leak.Baseline.Managed:F1} → {leak.EndCleaned.Managed:F1} MiB ({leak.ManagedGrowthPer100Steps:+0.0;-0.0} MiB / 100 steps)");
foreach (var (x, y) in plainBatches.Concat(rawBatches)) { x.Dispose(); y.Dispose(); }
return 0;

// The 1-minute load average of the machine (other processes' work, on a shared machine), or "?".
static string LoadAverage()
{
    try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
    catch (IOException) { return "?"; }
}

static void Row(string figure, string value) => Console.WriteLine($"| {figure} | {value} |");

// What was run, for the record: the dotnet run line when the program runs from its build folder, otherwise the
// published program's own path (the GPU machine, which has no SDK, runs a self-contained publish: eng/gpu/pack.sh).
static string CommandLine(string[] args)
{
    string buildFolder = Path.Combine("test", "MLNet.FineTuning.Benchmarks", "bin") + Path.DirectorySeparatorChar;
    string line = AppContext.BaseDirectory.Contains(buildFolder, StringComparison.Ordinal) || Environment.ProcessPath == null
        ? "dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks" + (args.Length > 0 ? " --" : "")
        : Environment.ProcessPath;
    return line + string.Concat(args.Select(a => " " + a));
}

// The repository root (samples/data): --repo when given, else the first folder holding the solution above the program
// or above the current directory (a published copy outside the repository needs one of the two).
static string RepoRoot(string? repo)
{
    if (repo != null)
        return File.Exists(Path.Combine(repo, "MLNet.FineTuning.sln")) ? Path.GetFullPath(repo)
            : throw new DirectoryNotFoundException($"--repo {repo}: no MLNet.FineTuning.sln there.");
    foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
    {
        for (var d = new DirectoryInfo(start); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
    }
    throw new DirectoryNotFoundException("MLNet.FineTuning.sln not found above " + AppContext.BaseDirectory + " or the current directory: " +
                                         "run from inside the repository, or pass --repo PATH.");
}
