using MLNet.FineTuning.Data;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// The image benchmark's GPU mode (<c>--gpu ID</c>), GPU-sized (224 px, batch 128, 3072 images cycled over the
/// committed 2,000):
/// 1. one epoch of <c>FineTuneImageClassifier.Fit</c> on CUDA, in fp32 and in bf16 mixed precision (the CUDA default)
///    when <c>--precision auto</c>, against the plain TorchSharp loop (<see cref="PlainLoop"/>, fp32) on CUDA over the
///    same images as pre-built, pre-normalised device tensors; then the CPU batch source's own rate and the library's
///    training loop over device tensors, which split Fit's gap to the plain loop into data pipeline and loop;
/// 2. TorchSharp inference on CUDA (fp32, and bf16 unless <c>--precision float32</c>) beside ONNX Runtime on the CPU;
/// 3. device memory after each phase (nvidia-smi; TorchSharp has no torch.cuda memory statistics) instead of the CPU
///    mode's RSS leak check.
/// Every timed GPU section waits for the device before its clock is read (see each part).
/// </summary>
internal static class GpuImageBenchmark
{
    public static int Run(BenchmarkOptions o, GpuSetup gpu, string command, string repoRoot)
    {
        if (o.Threads is int t) torch.set_num_threads(t);
        using var kernels = gpu.KernelChoices();
        int threads = torch.get_num_threads();
        var started = DateTime.UtcNow;
        var failures = new List<string>();
        TrainingPrecision[] precisions = o.Precision == TrainingPrecision.Auto ? [TrainingPrecision.Float32, TrainingPrecision.BFloat16] : [o.Precision];
        Console.WriteLine($"MLNet.FineTuning benchmarks, GPU mode, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads}, {(o.Quick ? "quick" : "full")} run");
        Console.WriteLine($"  device {gpu.Name}{gpu.GpuName()}{gpu.Backends()}");
        Console.WriteLine($"  precision {BenchmarkOptions.Describe(o.Precision, gpu.IsCuda)}; Fit measured in {string.Join(" and ", precisions.Select(Short))}, the plain loop in fp32");
        Console.WriteLine($"  {command}");
        Console.WriteLine(GpuSetup.OnnxRuntimeNote);
        Console.WriteLine($"  resnet18-mlnet pretrained, {o.ImageSize} px, batch {o.BatchSize}, 1 epoch, AdamW ({MLNet.FineTuning.Benchmarks.PlainLoop.DescribeRates()}), best of {o.Repeats}");

        var ml = gpu.CreateContext();
        using var tempFiles = TempFiles.For(ml);
        var checkFit = gpu.WatchFits(ml);
        var memory = new List<(string Phase, MemoryReading Host, string Device)>();
        void EndPhase(string phase)
        {
            var m = ProcessMemory.Read(collectManaged: true);
            string device = gpu.DeviceMemory();
            memory.Add((phase, m, device));
            Console.WriteLine($"  [memory, {phase}] host: {m}{(device.Length > 0 ? "; " + device : "")}");
            ProcessMemory.ResetPeak();
        }
        ProcessMemory.ResetPeak();

        var data = BenchmarkData.Load(ml, Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), o.Images, o.ImageSize, cycle: true);
        Console.WriteLine($"\ndata: {data.Count} images ({data.Distinct} distinct{(data.Distinct < data.Count ? ", cycled" : "")}) of {data.ClassNames.Length} classes, decoded and centre-cropped to {o.ImageSize} px");
        var preprocessing = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).Preprocessing;
        // The plain loop's batches: normalised, on the device. The raw (0..255) ones feed the library's loop and inference.
        var plainBatches = data.Tensors(o.BatchSize, train: true, preprocessing, gpu.Device);
        var rawBatches = data.Tensors(o.BatchSize, train: false, normalise: null, gpu.Device);
        EndPhase("data loaded, batches on the device");

        // ---- 1. Fit vs the plain loop ------------------------------------------------------------------------------
        Console.WriteLine($"\n1. training throughput on {gpu.Device}, one epoch of {data.Count} images; img/s from the per-step times " +
                          "(each step reads its loss back, so it waits for the device), first step left out");
        foreach (var p in precisions)
            GpuSetup.Attempt($"warm-up Fit {Short(p)}", () =>
            {
                FitBenchmark.RunFit(ml, data, o, o.WarmupSteps * o.BatchSize, precision: p);
                checkFit($"warm-up Fit {Short(p)}", p, failures);
            }, failures);
        // Channels-last in the issue's bar's precision only (bf16 unless --precision float32): the device step's time is short.
        TrainingPrecision[] channelsLastPrecisions = precisions.Contains(TrainingPrecision.BFloat16) ? [TrainingPrecision.BFloat16] : precisions;
        foreach (var p in channelsLastPrecisions)
            GpuSetup.Attempt($"warm-up Fit {Short(p)} channels-last", () => FitBenchmark.RunFit(ml, data, o, o.WarmupSteps * o.BatchSize, precision: p, channelsLast: true), failures);
        GpuSetup.Attempt("warm-up plain loop", () => FitBenchmark.RunPlain(data, plainBatches, o.WarmupSteps, gpu), failures);
        Console.WriteLine($"  warmed up ({o.WarmupSteps} steps each)");

        var bestFit = new Dictionary<TrainingPrecision, FitRun>();
        var bestFitChannelsLast = new Dictionary<TrainingPrecision, FitRun>();   // ChannelsLast = true (opt-in; issue 10's layout)
        double? bestPlain = null;
        FineTuneImageClassifierTransformer? fitted = null;
        for (int r = 0; r < o.Repeats; r++)
        {
            foreach (var p in precisions)
                GpuSetup.Attempt($"Fit {Short(p)}, run {r + 1}", () =>
                {
                    var fit = FitBenchmark.RunFit(ml, data, o, data.Count, m => { fitted?.Dispose(); fitted = m; }, p, skipFirst: 1);
                    checkFit($"Fit {Short(p)}, run {r + 1}", p, failures);
                    Console.WriteLine($"  run {r + 1}: Fit {Short(p),-4} {fit.TrainImagesPerSecond,8:F0} img/s (training phase), whole Fit {fit.WholeSeconds,5:F1} s = {fit.WholeImagesPerSecond,6:F0} img/s; " +
                                      $"steps {Steps(fit.StepSeconds)} s");
                    if (!bestFit.TryGetValue(p, out var best) || fit.TrainImagesPerSecond > best.TrainImagesPerSecond) bestFit[p] = fit;
                }, failures);
            foreach (var p in channelsLastPrecisions)
                GpuSetup.Attempt($"Fit {Short(p)} channels-last, run {r + 1}", () =>
                {
                    var fit = FitBenchmark.RunFit(ml, data, o, data.Count, precision: p, skipFirst: 1, channelsLast: true);
                    Console.WriteLine($"  run {r + 1}: Fit {Short(p),-4} channels-last {fit.TrainImagesPerSecond,8:F0} img/s (training phase); steps {Steps(fit.StepSeconds)} s");
                    if (!bestFitChannelsLast.TryGetValue(p, out var best) || fit.TrainImagesPerSecond > best.TrainImagesPerSecond) bestFitChannelsLast[p] = fit;
                }, failures);
            GpuSetup.Attempt($"plain loop, run {r + 1}", () =>
            {
                var (plain, steps) = FitBenchmark.RunPlain(data, plainBatches, gpu: gpu, skipFirst: 1);
                Console.WriteLine($"  run {r + 1}: plain fp32 {plain,8:F0} img/s (tensors on the device); steps {Steps(steps)} s");
                bestPlain = Math.Max(bestPlain ?? 0, plain);
            }, failures);
        }
        foreach (var (p, fit) in bestFit)
            Console.WriteLine($"  best: Fit {Short(p),-4} {fit.TrainImagesPerSecond:F0} img/s{(bestPlain is double bp ? $", Fit / plain fp32 {fit.TrainImagesPerSecond / bp:F2}" : "")}");
        foreach (var (p, fit) in bestFitChannelsLast)
            Console.WriteLine($"  best: Fit {Short(p),-4} channels-last {fit.TrainImagesPerSecond:F0} img/s" +
                              (bestFit.GetValueOrDefault(p) is FitRun plainLayout ? $", / the same Fit contiguous {fit.TrainImagesPerSecond / plainLayout.TrainImagesPerSecond:F2}" : ""));
        if (bestPlain is double plainRate) Console.WriteLine($"  best: plain fp32 {plainRate:F0} img/s");
        if (bestFit.TryGetValue(TrainingPrecision.Float32, out var f32) && bestFit.TryGetValue(TrainingPrecision.BFloat16, out var b16))
            Console.WriteLine($"  Fit bf16 / Fit fp32 {b16.TrainImagesPerSecond / f32.TrainImagesPerSecond:F2}");
        EndPhase("Fit and plain loop");

        Console.WriteLine("\n1b. where Fit's time goes on the GPU");
        double? produce = null;
        var loopRates = new Dictionary<TrainingPrecision, double>();
        GpuSetup.Attempt("ImageBatchSource alone", () =>
        {
            var options = FitBenchmark.FitOptions(o.ImageSize, o.BatchSize, null);
            var dataset = ImageDataset.Read(data.View, options.ImageColumnName, options.LabelColumnName, (long)options.ImageCacheMegabytes << 20, false, "training", default);
            produce = FitBreakdown.ProduceImagesPerSecond(() => new ImageBatchSource(dataset, o.ImageSize, o.BatchSize, train: true, options.Seed,
                options.TrainingAugmentation), o.Repeats);
            Console.WriteLine($"  ImageBatchSource alone (CPU: shuffle, resample each epoch; {Environment.ProcessorCount} cores) {produce,8:F0} img/s");
            var (first, kept) = FitBreakdown.ProduceKeptImagesPerSecond(dataset, o.ImageSize, o.BatchSize, options, gpu.Device, o.Repeats);
            Console.WriteLine($"  ImageBatchSource, pixels kept on {gpu.Device} (Fit's default)   {kept,8:F0} img/s (first epoch, making them: {first:F0} img/s; 0: not kept)");
        }, failures);
        var trainBatches = rawBatches.Where(b => b.Images.shape[0] > 1).ToArray();
        var definition = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet);
        foreach (var p in precisions)
            GpuSetup.Attempt($"TrainingLoop over device tensors, {Short(p)}", () =>
            {
                var options = FitBenchmark.FitOptions(o.ImageSize, o.BatchSize, null, p);
                double rate = FitBreakdown.Loop(data, definition, options, new FitBreakdown.TensorBatchSource(trainBatches), gpu.Device).StepImagesPerSecond;
                loopRates[p] = rate;
                Console.WriteLine($"  TrainingLoop over pre-built device tensors, {Short(p),-4}  {rate,8:F0} img/s (no decoding, augmentation or host copy)");
            }, failures);
        EndPhase("Fit breakdown");

        // ---- 2. inference ----------------------------------------------------------------------------------------------
        bool bf16Inference = o.Precision != TrainingPrecision.Float32;
        Console.WriteLine($"\n2. inference, batch {o.BatchSize}: TorchSharp on {gpu.Device} ({data.Count} images, batches on the device, probabilities " +
                          $"read back per batch) beside ONNX Runtime on the CPU (the first {Math.Min(data.Count, GpuImageInference.OnnxImageLimit)} at most)");
        GpuImageInferenceResult? inference = null;
        if (fitted == null)
            Console.WriteLine("  skipped: no Fit succeeded");
        else
        {
            inference = GpuImageInference.Run(data, fitted, rawBatches, gpu, bf16Inference, o.BatchSize, threads, o.Repeats, failures);
            Console.WriteLine($"  TorchSharp fp32 on {gpu.Device}                  {Rate(inference.TorchFloat32)} img/s; max |Δ probability| vs ONNX Runtime {Diff(inference.MaxDifferenceFloat32)}");
            if (bf16Inference)
                Console.WriteLine($"  TorchSharp bf16 on {gpu.Device}                  {Rate(inference.TorchBFloat16)} img/s; max |Δ probability| vs ONNX Runtime {Diff(inference.MaxDifferenceBFloat16)}");
            Console.WriteLine($"  ONNX Runtime CPU ({inference.OnnxThreads} intra-op threads, {inference.OnnxImages} images) {Rate(inference.Onnx)} img/s");
            var d = inference.OnDevice;
            Console.WriteLine($"  ONNX Runtime, {d.Provider}, {d.Images} images: inputs from the host {Rate(d.HostInputs)} img/s, inputs on the device " +
                              $"(I/O binding) {Rate(d.DeviceInputs)} img/s; max |Δ probability| vs its CPU provider {Diff(d.MaxDifference)}");
            Console.WriteLine("  (ML.NET's row-at-a-time Transform is left out here: it is ONNX Runtime on the CPU, as in the CPU mode)");
            fitted.Dispose();
            fitted = null;
        }
        EndPhase("inference");

        // ---- 3. memory ------------------------------------------------------------------------------------------------
        Console.WriteLine("\n3. memory: the CPU mode's RSS leak check does not apply to device memory and is skipped. TorchSharp 0.107 exposes no " +
                          "torch.cuda memory statistics (no memory_allocated / max_memory_allocated / empty_cache), so device memory is read " +
                          "with nvidia-smi after each phase (above): the CUDA context plus what libtorch's caching allocator has reserved, " +
                          "which it keeps, so each reading is the peak so far.");

        // ---- summary ---------------------------------------------------------------------------------------------------
        Console.WriteLine($"\n== GPU summary ({started:yyyy-MM-dd}, {gpu.Name}{gpu.GpuName()}, {Environment.ProcessorCount} cores, torch threads {threads}; " +
                          $"{(DateTime.UtcNow - started).TotalMinutes:F1} min) ==");
        Console.WriteLine($"command: {command}");
        Console.WriteLine($"resnet18-mlnet pretrained, {o.ImageSize} px, batch {o.BatchSize}, {data.Count} images, precision {BenchmarkOptions.Describe(o.Precision, gpu.IsCuda)}");
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---|");
        foreach (var p in precisions)
        {
            var fit = bestFit.GetValueOrDefault(p);
            string tag = p == TrainingPrecision.BFloat16 ? "bf16 (the CUDA default)" : "fp32";
            Row($"Fit {tag}, training phase", fit == null ? "failed" : $"{fit.TrainImagesPerSecond:F0} img/s");
            Row($"Fit {tag}, whole call (read, load, train, export, scoring chain)", fit == null ? "failed" : $"{fit.WholeSeconds:F1} s ({fit.WholeImagesPerSecond:F0} img/s)");
        }
        Row("plain TorchSharp loop fp32, tensors on the device", bestPlain is double pr ? $"{pr:F0} img/s" : "failed");
        foreach (var p in precisions)
            if (bestFit.GetValueOrDefault(p) is FitRun fit && bestPlain is double plain)
                Row($"**Fit {Short(p)} / plain fp32**", $"**{fit.TrainImagesPerSecond / plain:F2}**");
        if (bestFit.TryGetValue(TrainingPrecision.Float32, out var s32) && bestFit.TryGetValue(TrainingPrecision.BFloat16, out var s16))
            Row("Fit bf16 / Fit fp32", $"{s16.TrainImagesPerSecond / s32.TrainImagesPerSecond:F2}");
        foreach (var p in channelsLastPrecisions)
            Row($"Fit {Short(p)} channels-last (opt-in), training phase", bestFitChannelsLast.GetValueOrDefault(p) is FitRun cl
                ? $"{cl.TrainImagesPerSecond:F0} img/s" + (bestFit.GetValueOrDefault(p) is FitRun c ? $" ({cl.TrainImagesPerSecond / c.TrainImagesPerSecond:F2}× contiguous)" : "")
                : "failed");
        Row($"ImageBatchSource alone (CPU, {Environment.ProcessorCount} cores)", produce is double pd ? $"{pd:F0} img/s" : "failed");
        foreach (var p in precisions)
            Row($"TrainingLoop over device tensors, {Short(p)}", loopRates.TryGetValue(p, out double lr) ? $"{lr:F0} img/s" : "failed");
        if (inference != null)
        {
            Row($"TorchSharp inference fp32 on {gpu.Device}", $"{Rate(inference.TorchFloat32).Trim()} img/s");
            if (bf16Inference) Row($"TorchSharp inference bf16 on {gpu.Device}", $"{Rate(inference.TorchBFloat16).Trim()} img/s");
            Row($"ONNX Runtime inference, CPU ({inference.OnnxThreads} threads)", $"{Rate(inference.Onnx).Trim()} img/s");
            if (inference.TorchFloat32 is double tf && inference.Onnx is double ox)
                Row($"TorchSharp fp32 on {gpu.Device} / ONNX Runtime CPU", $"{tf / ox:F1}");
            var d = inference.OnDevice;
            Row($"ONNX Runtime inference, {d.Provider}, inputs from the host", $"{Rate(d.HostInputs).Trim()} img/s");
            Row($"ONNX Runtime inference, {d.Provider}, inputs on the device", $"{Rate(d.DeviceInputs).Trim()} img/s");
            if (d.DeviceInputs is double bound && inference.TorchFloat32 is double torch32)
                Row($"**ONNX Runtime ({d.Provider}, device inputs) / TorchSharp fp32**", $"**{bound / torch32:F2}** (PyTorch eager: the `resnet inference` rows of device-checks' `peer` step)");
        }
        foreach (var (phase, m, device) in memory)
            Row($"memory: {phase}", $"host peak RSS {m.Peak:F0} MiB{(ProcessMemory.PeakIsPerPhase ? " (in the phase)" : " (since start)")}, RSS {m.Resident:F0} MiB" +
                                    (device.Length > 0 ? "; " + device : ""));
        if (failures.Count > 0) Console.WriteLine($"\nFAILED parts ({failures.Count}): {string.Join("; ", failures)}");
        foreach (var (x, y) in plainBatches.Concat(rawBatches)) { x.Dispose(); y.Dispose(); }
        return failures.Count == 0 ? 0 : 1;
    }

    private static string Short(TrainingPrecision p) => BenchmarkOptions.ShortName(p);
    private static string Steps(IEnumerable<double> seconds) => string.Join(" ", seconds.Select(s => s.ToString("F3")));
    private static string Rate(double? rate) => rate is double r ? $"{r,8:F0}" : "  failed";
    private static string Diff(double? d) => d is double v ? v.ToString("E1") : "n/a";
    private static void Row(string figure, string value) => Console.WriteLine($"| {figure} | {value} |");
}
