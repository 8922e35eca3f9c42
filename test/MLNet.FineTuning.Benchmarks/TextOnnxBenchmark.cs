using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// The <c>text-onnx</c> mode: ONNX Runtime's side of the text benchmark's inference figure, without training. Exports
/// MiniLM-L6 (pretrained, mean pooling) with a fresh 3-class head, then prints (1) the graph as written and as ONNX
/// Runtime runs it after its optimizer, for this export and any <c>--compare</c> model; (2) ONNX Runtime on each model
/// against TorchSharp's eval forward, interleaved batch by batch on the <c>text</c> mode's texts; (3) the fp32 GEMM
/// rate of both libraries on the encoder's projection shapes, the ceiling that (2) runs into.
/// </summary>
internal static class TextOnnxBenchmark
{
    public const string Usage =
        "usage: dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- text-onnx [options]\n" +
        "  --texts N         texts, round-robin over the classes of samples/data/spam-assassin/train.tsv (default 256, as `text`)\n" +
        "  --max-length N    most tokens per text (default 128)\n" +
        "  --batch-size N    texts per batch (default 16)\n" +
        "  --threads N       torch.set_num_threads and ONNX Runtime intra-op threads (default: torch's)\n" +
        "  --repeats N       interleaved passes over the texts (default 3)\n" +
        "  --compare FILE    another text-classifier .onnx (same inputs, a `probabilities` output) in the same loop; repeatable\n" +
        "  --save FILE       write this export to FILE (e.g. to --compare it against a later build)\n" +
        "  --profile         ONNX Runtime's kernel time per op type, ms per batch, for each model (one more interleaved pass)\n" +
        "  --optimizer-log   ONNX Runtime's verbose optimizer log for this export, on stderr (grep it for Attention, LayerNorm)";

    private const int Classes = 3;

    public static int Run(string[] args, string repoRoot)
    {
        int texts = 256, maxLength = 128, batch = 16, repeats = 3;
        bool profile = false, optimizerLog = false;
        string? save = null;
        var compare = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--profile": profile = true; continue;
                case "--optimizer-log": optimizerLog = true; continue;
                case "--compare" or "--save" when i + 1 < args.Length:
                    if (args[i] == "--save") save = args[++i]; else compare.Add(args[++i]);
                    continue;
            }
            if (i + 1 >= args.Length || !int.TryParse(args[i + 1], out int v) || v < 1)
            { Console.Error.WriteLine($"{args[i]}: unknown option or not a positive whole number.\n{Usage}"); return 2; }
            switch (args[i++])
            {
                case "--texts": texts = v; break;
                case "--max-length": maxLength = v; break;
                case "--batch-size": batch = v; break;
                case "--threads": set_num_threads(v); break;
                case "--repeats": repeats = v; break;
                default: Console.Error.WriteLine($"Unknown option '{args[i - 1]}'.\n{Usage}"); return 2;
            }
        }
        int threads = get_num_threads();
        string Load() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";
        Console.WriteLine($"MLNet.FineTuning text-onnx, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores (load average {Load()}), " +
                          $"torch and ONNX Runtime threads {threads}, ONNX Runtime {OrtEnv.Instance().GetVersionString()}");

        var checkpoint = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained();
        var encoder = checkpoint.Encoder;
        manual_seed(1);
        var head = new ClassifierHead(encoder.Config.HiddenSize, Classes, dropoutRate: 0);
        encoder.eval();
        head.eval();
        var bytes = TextClassifierExporter.Export(encoder, TextPooling.Mean, head, ["a", "b", "c"]);
        if (save != null) File.WriteAllBytes(save, bytes);
        var models = new List<(string Name, byte[] Bytes)> { ("this export", bytes) };
        models.AddRange(compare.Select(path => (Path.GetFileName(path), File.ReadAllBytes(path))));

        Console.WriteLine("\n1. graph: nodes as written → as ONNX Runtime runs them (ORT_ENABLE_EXTENDED; ORT_ENABLE_ALL adds no fusion here)");
        foreach (var (name, model) in models)
        {
            var proto = global::Onnx.ModelProto.Parser.ParseFrom(model);
            var optimized = OnnxRuntimeGraph.OptimizedOpCounts(model);
            Console.WriteLine($"  {name}: opset {proto.OpsetImport.First(o => o.Domain == "").Version}, {proto.Graph.Node.Count} nodes → {optimized.Values.Sum()}: {OnnxRuntimeGraph.Describe(optimized)}");
        }
        if (optimizerLog) PrintOptimizerLog(bytes);

        var tokenizer = BertTextTokenizer.Create(checkpoint.OpenVocabulary(), checkpoint.LowerCase);
        var rows = TextBenchmark.LoadRows(Path.Combine(repoRoot, "samples", "data", "spam-assassin", "train.tsv"), texts);
        var batches = rows.Select(r => r.Text).Chunk(batch).Select(c => tokenizer.EncodeBatch(c, null, maxLength)).ToArray();
        var sessions = models.Select(m => Session(m.Bytes, threads, profile: false)).ToArray();
        float[] Torch(BertBatch b)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var mask = tensor(b.AttentionMask, b.Shape);
            var hidden = encoder.forward(tensor(b.InputIds, b.Shape), mask, tensor(b.TokenTypeIds, b.Shape));
            return nn.functional.softmax(head.forward(TextPoolingMath.Pool(hidden, mask, TextPooling.Mean)), 1).data<float>().ToArray();
        }

        Console.WriteLine($"\n2. inference, {rows.Length} texts, batch {batch} (sequence lengths {string.Join(",", batches.Select(b => b.SequenceLength).Distinct())}), " +
                          $"{repeats} interleaved passes: TorchSharp, then each ONNX Runtime model, batch by batch");
        var reference = Torch(batches[0]);   // also the warm-up
        for (int k = 0; k < models.Count; k++)
            Console.WriteLine($"  {models[k].Name}: max |Δ probabilities| vs TorchSharp {Onnx(sessions[k], batches[0]).Zip(reference, (a, t) => Math.Abs(a - t)).Max():E1}");
        var torchSeconds = new double[repeats, batches.Length];
        var ortSeconds = new double[models.Count, repeats, batches.Length];
        for (int r = 0; r < repeats; r++)
            for (int j = 0; j < batches.Length; j++)
            {
                torchSeconds[r, j] = Time(() => Torch(batches[j]));
                for (int k = 0; k < models.Count; k++) ortSeconds[k, r, j] = Time(() => Onnx(sessions[k], batches[j]));
            }
        double flopPerPass = batches.Sum(b => ModelFlop(encoder.Config, b));
        double torchTotal = Sum(torchSeconds), torchBest = BestOfSum(j => Enumerable.Range(0, repeats).Min(r => torchSeconds[r, j]), batches.Length);
        Console.WriteLine($"  TorchSharp: {repeats * rows.Length / torchTotal,6:F1} seq/s; best of each batch {rows.Length / torchBest,6:F1} seq/s ({flopPerPass / torchBest / 1e9:F0} GFLOP/s)");
        for (int k = 0; k < models.Count; k++)
        {
            double total = 0;
            var ratios = new List<double>();
            for (int r = 0; r < repeats; r++)
                for (int j = 0; j < batches.Length; j++) { total += ortSeconds[k, r, j]; ratios.Add(torchSeconds[r, j] / ortSeconds[k, r, j]); }
            ratios.Sort();
            double best = BestOfSum(j => Enumerable.Range(0, repeats).Min(r => ortSeconds[k, r, j]), batches.Length);
            Console.WriteLine($"  {models[k].Name}: {repeats * rows.Length / total,6:F1} seq/s, TorchSharp time / ONNX Runtime time {torchTotal / total:F2} (median per batch " +
                              $"{ratios[ratios.Count / 2]:F2}); best of each batch {rows.Length / best,6:F1} seq/s ({flopPerPass / best / 1e9:F0} GFLOP/s), ratio {torchBest / best:F2}");
        }
        foreach (var s in sessions) s.Dispose();
        if (profile) Profile(models, batches, threads);

        Console.WriteLine($"\n3. fp32 GEMM ceiling: x·Wᵀ + b on [{batch}·{maxLength}, {encoder.Config.HiddenSize}] (the encoder's projections), 40 interleaved runs each");
        foreach (int n in new[] { encoder.Config.HiddenSize, encoder.Config.IntermediateSize })
            GemmRate(batch * maxLength, encoder.Config.HiddenSize, n, threads);
        Console.WriteLine($"  (load average now {Load()})");
        return 0;
    }

    /// <summary>Multiply-adds ×2 of the encoder on one padded batch: per token and layer 4h² (Q, K, V, output), 2·h·i (feed-forward), 2·s·h (scores, context).</summary>
    private static double ModelFlop(BertConfig c, BertBatch b)
    {
        double h = c.HiddenSize, perToken = c.NumHiddenLayers * (4 * h * h + 2 * h * c.IntermediateSize + 2.0 * b.SequenceLength * h);
        return 2 * perToken * b.BatchSize * b.SequenceLength;
    }

    private static InferenceSession Session(byte[] model, int threads, bool profile)
    {
        // What TextInference (the `text` mode) uses.
        var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        if (profile)
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "mlnet-finetuning-ort-profile");
        }
        return new InferenceSession(model, options);
    }

    private static float[] Onnx(InferenceSession session, BertBatch b)
    {
        using var ids = OrtValue.CreateTensorValueFromMemory(b.InputIds, b.Shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(b.AttentionMask, b.Shape);
        using var types = OrtValue.CreateTensorValueFromMemory(b.TokenTypeIds, b.Shape);
        using var options = new RunOptions();
        using var result = session.Run(options, new Dictionary<string, OrtValue>
        {
            [BertExporter.InputIdsInput] = ids, [BertExporter.AttentionMaskInput] = mask, [BertExporter.TokenTypeIdsInput] = types,
        }, [TextClassifierExporter.ProbabilitiesOutput]);
        return result[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>Kernel time per op type from ONNX Runtime's profiler, each model's session profiled over one interleaved pass.</summary>
    private static void Profile(List<(string Name, byte[] Bytes)> models, BertBatch[] batches, int threads)
    {
        Console.WriteLine("  ONNX Runtime profiler, kernel ms per batch by op type (one more interleaved pass):");
        var sessions = models.Select(m => Session(m.Bytes, threads, profile: true)).ToArray();
        foreach (var b in batches)
            foreach (var s in sessions) Onnx(s, b);
        for (int k = 0; k < sessions.Length; k++)
        {
            string file = sessions[k].EndProfiling();
            sessions[k].Dispose();
            var byOp = new Dictionary<string, double>();
            using (var doc = JsonDocument.Parse(File.ReadAllText(file)))
                foreach (var e in doc.RootElement.EnumerateArray())
                    if (e.GetProperty("cat").GetString() == "Node" && e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal))
                    {
                        string op = e.GetProperty("args").GetProperty("op_name").GetString()!;
                        byOp[op] = byOp.GetValueOrDefault(op) + e.GetProperty("dur").GetDouble() / 1e3 / batches.Length;
                    }
            File.Delete(file);
            Console.WriteLine($"    {models[k].Name}: {byOp.Values.Sum():F0} ms: " +
                              string.Join(", ", byOp.Where(o => o.Value >= 0.5).OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value:F0}")));
        }
    }

    /// <summary>
    /// ONNX Runtime's verbose log while it optimizes <paramref name="model"/>. Its native logger writes to stderr, so
    /// the lines land there, between the two markers printed here; the fusions say why a pattern did not match
    /// ("Failed to find path for mask") or that it did ("Fused an attention node").
    /// </summary>
    private static void PrintOptimizerLog(byte[] model)
    {
        Console.WriteLine("  ONNX Runtime optimizer log follows on stderr");
        Console.Out.Flush();
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_VERBOSE,
            LogVerbosityLevel = 10,
        };
        using (new InferenceSession(model, options)) { }
        Console.WriteLine("  (end of optimizer log)");
    }

    private static void GemmRate(int m, int k, int n, int threads)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var weight = randn(n, k).mul_(0.05f);
        var bias = randn(n).mul_(0.05f);
        var x = randn(m, k);
        var writer = new OnnxGraphWriter("linear");
        string input = writer.AddInput("x", DataType.Float, m, k);
        string y = LinearExporter.Write(writer, input, weight, bias, "linear");
        writer.AddOutput(y, DataType.Float, m, n);
        using var session = Session(writer.ToBytes(), threads, profile: false);
        var data = x.data<float>().ToArray();
        void Ort()
        {
            using var value = OrtValue.CreateTensorValueFromMemory(data, [m, k]);
            using var options = new RunOptions();
            using var result = session.Run(options, new Dictionary<string, OrtValue> { [input] = value }, [y]);
        }
        void Torch()
        {
            using var noGrad = no_grad();
            using var inner = NewDisposeScope();
            nn.functional.linear(x, weight, bias);
        }
        Ort(); Torch();
        var ort = new List<double>();
        var torch = new List<double>();
        for (int i = 0; i < 40; i++) { ort.Add(Time(Ort)); torch.Add(Time(Torch)); }
        ort.Sort();
        torch.Sort();
        double flop = 2.0 * m * k * n;
        Console.WriteLine($"  [{m}×{k}]·[{k}×{n}]: ONNX Runtime best {flop / ort[0] / 1e9:F0} GFLOP/s (median {flop / ort[20] / 1e9:F0}), " +
                          $"TorchSharp best {flop / torch[0] / 1e9:F0} (median {flop / torch[20] / 1e9:F0})");
    }

    private static double Time(Action run)
    {
        var sw = Stopwatch.StartNew();
        run();
        return sw.Elapsed.TotalSeconds;
    }

    private static double Time(Func<float[]> run) => Time(() => { run(); });

    private static double Sum(double[,] seconds) => seconds.Cast<double>().Sum();

    private static double BestOfSum(Func<int, double> bestOfBatch, int batches) => Enumerable.Range(0, batches).Sum(bestOfBatch);
}
