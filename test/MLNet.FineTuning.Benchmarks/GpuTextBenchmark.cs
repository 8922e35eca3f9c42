using Microsoft.ML;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Training;
using TorchSharp;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// The text mode on a GPU (<c>text --gpu ID</c>), GPU-sized (2048 texts, batch 32): 1. LoRA (r=8, query+value) vs full
/// fine-tuning through Fit on CUDA, each in fp32 and in bf16 mixed precision (the CUDA default) when
/// <c>--precision auto</c>; 2. TorchSharp inference on CUDA beside ONNX Runtime on the CPU (and ML.NET's Transform);
/// 3. tokenization, as in the CPU mode. Every timed GPU section waits for the device before its clock is read.
/// </summary>
internal static class GpuTextBenchmark
{
    private enum Kind { Lora, Full }

    public static int Run(TextBenchmark.Settings s, GpuSetup gpu, string command, string repoRoot)
    {
        if (s.Threads is int t) torch.set_num_threads(t);
        using var kernels = gpu.KernelChoices();
        int threads = torch.get_num_threads();
        var started = DateTime.UtcNow;
        var failures = new List<string>();
        TrainingPrecision[] precisions = s.Precision == TrainingPrecision.Auto ? [TrainingPrecision.Float32, TrainingPrecision.BFloat16] : [s.Precision];
        Console.WriteLine($"MLNet.FineTuning text benchmark, GPU mode, {started:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads}, {(s.Quick ? "quick" : "full")} run");
        Console.WriteLine($"  device {gpu.Name}{gpu.GpuName()}{gpu.Backends()}");
        Console.WriteLine($"  precision {BenchmarkOptions.Describe(s.Precision, gpu.IsCuda)}; Fit measured in {string.Join(" and ", precisions.Select(Short))}");
        Console.WriteLine($"  {command}");
        Console.WriteLine(GpuSetup.OnnxRuntimeNote);

        var rows = TextBenchmark.LoadRows(Path.Combine(repoRoot, "samples", "data", "spam-assassin", "train.tsv"), s.Texts);
        int texts = rows.Length, batch = s.BatchSize;
        Console.WriteLine($"  {PretrainedCatalog.MiniLmL6}, {texts} SpamAssassin texts, max length {s.MaxLength}, batch {batch}, 1 epoch, best of {s.Repeats}");
        var ml = gpu.CreateContext();
        using var tempFiles = TempFiles.For(ml);
        var checkFit = gpu.WatchFits(ml);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var view = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);

        Console.WriteLine($"\n1. training on {gpu.Device} (LoraTextClassifier.Fit, 1 epoch; seq/s from its per-step reports, each of which reads the " +
                          "loss back and so waits for the device; first 2 steps left out)");
        // A short Fit per precision first: CUDA's context, cuBLAS handles and kernels load once, outside the timed runs.
        int warmupTexts = Math.Min(texts, 2 * batch);
        foreach (var p in precisions)
            GpuSetup.Attempt($"warm-up Fit {Short(p)}", () =>
            {
                TextBenchmark.Train(ml, ml.Data.TakeRows(view, warmupTexts), warmupTexts, batch, s.MaxLength, fullFineTune: false, p).Model.Dispose();
                checkFit($"warm-up Fit {Short(p)}", p, failures);
            }, failures);
        Console.WriteLine($"  warmed up ({warmupTexts} texts each){Memory(gpu)}");

        var best = new Dictionary<(Kind, TrainingPrecision), TextBenchmark.TrainRun>();
        var memoryAfter = new Dictionary<(Kind, TrainingPrecision), string>();
        LoraTextClassifierTransformer? keep = null;
        for (int r = 0; r < s.Repeats; r++)
            foreach (var kind in new[] { Kind.Lora, Kind.Full })
                foreach (var p in precisions)
                {
                    string what = $"{Name(kind)} {Short(p)}, run {r + 1}";
                    GpuSetup.Attempt(what, () =>
                    {
                        var run = TextBenchmark.Train(ml, view, texts, batch, s.MaxLength, kind == Kind.Full, p, skipFirst: 2);
                        checkFit(what, p, failures);
                        string memory = gpu.DeviceMemory();
                        memoryAfter.TryAdd((kind, p), memory);
                        Console.WriteLine($"  run {r + 1}: {Name(kind),-13} {Short(p)} {run.SeqPerSecond,7:F0} seq/s, whole Fit {run.WholeSeconds,5:F1} s, trainable {run.Trainable:N0}, " +
                                          $"host peak RSS {run.PeakRss:F0} MiB{(memory.Length > 0 ? "; " + memory : "")}");
                        best[(kind, p)] = best.TryGetValue((kind, p), out var b) ? TextBenchmark.Best(b, run) : run;
                        if (kind == Kind.Lora && keep == null) keep = run.Model;
                        else run.Model.Dispose();
                    }, failures);
                }

        bool bf16Inference = s.Precision != TrainingPrecision.Float32;
        Console.WriteLine($"\n2. inference of a LoRA model (adapters merged), batch {batch}: TorchSharp on {gpu.Device} ({texts} texts, batches on the " +
                          $"device, probabilities read back per batch) beside ONNX Runtime on the CPU and ML.NET's Transform (the first {Math.Min(texts, GpuTextInference.CpuTextLimit)})");
        GpuTextInferenceResult? inf = null;
        if (keep == null)
            Console.WriteLine("  skipped: no LoRA Fit succeeded");
        else
        {
            inf = GpuTextInference.Run(ml, view, rows, keep, s.MaxLength, batch, gpu, bf16Inference, threads, s.Repeats, failures);
            Console.WriteLine($"  TorchSharp fp32 on {gpu.Device} {Rate(inf.TorchFloat32)} seq/s; max |Δp| vs ONNX Runtime {Diff(inf.MaxDifferenceFloat32)}");
            if (bf16Inference) Console.WriteLine($"  TorchSharp bf16 on {gpu.Device} {Rate(inf.TorchBFloat16)} seq/s; max |Δp| vs ONNX Runtime {Diff(inf.MaxDifferenceBFloat16)}");
            Console.WriteLine($"  ONNX Runtime CPU ({threads} threads, {inf.OnnxTexts} texts) {Rate(inf.Onnx)} seq/s; ML.NET Transform, row at a time ({inf.TransformTexts} texts) {Rate(inf.Transform)} seq/s");
            Console.WriteLine($"  ONNX Runtime, {inf.OnDevice.Provider} ({inf.OnDevice.Images} texts) {Rate(inf.OnDevice.HostInputs)} seq/s; max |Δp| vs its CPU provider {Diff(inf.OnDevice.MaxDifference)}");
            Console.WriteLine($"\n3. tokenization: EncodeBatch {Rate(inf.EncodeBatch)} texts/s, TextTokenizationPipeline {Rate(inf.Chain)} texts/s");
            keep.Dispose();
        }
        if (gpu.IsCuda) Console.WriteLine($"  [memory, end] {gpu.DeviceMemory()}");

        Console.WriteLine($"\n== text GPU summary ({started:yyyy-MM-dd}, {gpu.Name}{gpu.GpuName()}, {Environment.ProcessorCount} cores, torch threads {threads}; " +
                          $"{(DateTime.UtcNow - started).TotalMinutes:F1} min) ==");
        Console.WriteLine($"command: {command}");
        Console.WriteLine($"{PretrainedCatalog.MiniLmL6}, {texts} texts, max length {s.MaxLength}, batch {batch}, precision {BenchmarkOptions.Describe(s.Precision, gpu.IsCuda)}");
        Console.WriteLine("| figure | " + string.Join(" | ", precisions.SelectMany(p => new[] { $"LoRA r=8 (q,v) {Short(p)}", $"full {Short(p)}" })) + " |");
        Console.WriteLine("|---|" + string.Concat(Enumerable.Repeat("---|", 2 * precisions.Length)));
        string Cells(Func<TextBenchmark.TrainRun, string> cell) =>
            string.Join(" | ", precisions.SelectMany(p => new[] { Kind.Lora, Kind.Full }.Select(k => best.TryGetValue((k, p), out var b) ? cell(b) : "failed")));
        Console.WriteLine($"| training, seq/s | {Cells(b => b.SeqPerSecond.ToString("F0"))} |");
        Console.WriteLine($"| whole Fit, s | {Cells(b => b.WholeSeconds.ToString("F1"))} |");
        Console.WriteLine($"| trainable parameters | {Cells(b => b.Trainable.ToString("N0"))} |");
        Console.WriteLine($"| host peak RSS in Fit, MiB | {Cells(b => b.PeakRss.ToString("F0"))} |");
        if (gpu.IsCuda)
            Console.WriteLine($"| device memory in use after its first run (nvidia-smi; only grows) | " +
                              string.Join(" | ", precisions.SelectMany(p => new[] { Kind.Lora, Kind.Full }.Select(k => memoryAfter.GetValueOrDefault((k, p), "failed")))) + " |");
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---|");
        foreach (var p in precisions)
            if (best.GetValueOrDefault((Kind.Lora, p)) is { } l && best.GetValueOrDefault((Kind.Full, p)) is { } f)
                Console.WriteLine($"| LoRA / full training seq/s, {Short(p)} | {l.SeqPerSecond / f.SeqPerSecond:F2} |");
        foreach (var k in new[] { Kind.Lora, Kind.Full })
            if (best.GetValueOrDefault((k, TrainingPrecision.BFloat16)) is { } b16 && best.GetValueOrDefault((k, TrainingPrecision.Float32)) is { } f32)
                Console.WriteLine($"| {Name(k)}: bf16 / fp32 training seq/s | {b16.SeqPerSecond / f32.SeqPerSecond:F2} |");
        if (inf != null)
        {
            Console.WriteLine($"| TorchSharp inference fp32 on {gpu.Device} | {Rate(inf.TorchFloat32).Trim()} seq/s |");
            if (bf16Inference) Console.WriteLine($"| TorchSharp inference bf16 on {gpu.Device} | {Rate(inf.TorchBFloat16).Trim()} seq/s |");
            Console.WriteLine($"| ONNX Runtime inference, CPU ({threads} threads) | {Rate(inf.Onnx).Trim()} seq/s |");
            if (inf.TorchFloat32 is double tf && inf.Onnx is double ox)
                Console.WriteLine($"| TorchSharp fp32 on {gpu.Device} / ONNX Runtime CPU | {tf / ox:F1} |");
            Console.WriteLine($"| ONNX Runtime inference, {inf.OnDevice.Provider} | {Rate(inf.OnDevice.HostInputs).Trim()} seq/s |");
            if (inf.OnDevice.HostInputs is double od && inf.TorchFloat32 is double t32)
                Console.WriteLine($"| **ONNX Runtime ({inf.OnDevice.Provider}) / TorchSharp fp32** | **{od / t32:F2}** (PyTorch eager: the `minilm-l6 inference` row of device-checks' `peer` step) |");
            Console.WriteLine($"| ML.NET Transform, row at a time, CPU (tokenization included) | {Rate(inf.Transform).Trim()} seq/s |");
            Console.WriteLine($"| BertTextTokenizer.EncodeBatch | {Rate(inf.EncodeBatch).Trim()} texts/s |");
            Console.WriteLine($"| TextTokenizationPipeline (saved-model chain) | {Rate(inf.Chain).Trim()} texts/s |");
        }
        if (failures.Count > 0) Console.WriteLine($"\nFAILED parts ({failures.Count}): {string.Join("; ", failures)}");
        return failures.Count == 0 ? 0 : 1;
    }

    private static string Name(Kind k) => k == Kind.Lora ? "LoRA r=8 q,v" : "full";
    private static string Short(TrainingPrecision p) => BenchmarkOptions.ShortName(p);
    private static string Rate(double? rate) => rate is double r ? $"{r,7:F0}" : " failed";
    private static string Diff(double? d) => d is double v ? v.ToString("E1") : "n/a";
    private static string Memory(GpuSetup gpu) => gpu.DeviceMemory() is { Length: > 0 } m ? "; " + m : "";
}
