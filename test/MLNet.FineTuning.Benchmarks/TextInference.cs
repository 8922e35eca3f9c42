using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

internal sealed record TextInferenceResult(double Onnx, double Torch, double MedianRatio, double MaxDiff, double Transform, double EncodeBatch, double Chain,
    int WrittenNodes, IReadOnlyDictionary<string, int> OptimizedOps, Int8Result Int8);

/// <summary>
/// The <see cref="OnnxPrecision.Int8"/> export timed in the same interleaved loop: seq/s, median per-batch ratio to
/// TorchSharp, and its cost against the float32 export on every benchmark text (max and mean |Δp|, identical argmax).
/// </summary>
internal sealed record Int8Result(double Onnx, double MedianRatio, double MaxDiff, double MeanDiff, int SameArgmax, int Texts,
    IReadOnlyDictionary<string, int> OptimizedOps);

/// <summary>
/// Parts 2 and 3 of the text mode: ONNX Runtime on the exported model vs TorchSharp's eval forward (no_grad) on
/// the same batches, padded per batch by <see cref="BertTextTokenizer.EncodeBatch"/>, interleaved batch by batch;
/// ML.NET's row-at-a-time Transform; and the two tokenizers' throughput. Also what ONNX Runtime runs: the node counts
/// of the exported graph after its optimizer (the fused Attention / BiasGelu / LayerNormalization kernels).
/// </summary>
internal static class TextInference
{
    public static TextInferenceResult Run(MLContext ml, IDataView view, TextBenchmark.Row[] rows, LoraTextClassifierTransformer model,
        int maxLength, int batchSize, int threads, int repeats)
    {
        var tokenizer = Tokenizer(model);
        var texts = rows.Select(r => r.Text).ToArray();
        var batches = texts.Chunk(batchSize).Select(c => tokenizer.EncodeBatch(c, null, maxLength)).ToArray();

        using var sessionOptions = OnnxSessions.Options(threads);
        var onnxBytes = model.OnnxModel.ToArray();
        int writtenNodes = global::Onnx.ModelProto.Parser.ParseFrom(onnxBytes).Graph.Node.Count;
        var optimizedOps = OnnxRuntimeGraph.OptimizedOpCounts(onnxBytes);
        using var session = new InferenceSession(onnxBytes, sessionOptions);
        var int8Bytes = model.Int8OnnxBytes();
        var int8Ops = OnnxRuntimeGraph.OptimizedOpCounts(int8Bytes);
        using var int8Session = new InferenceSession(int8Bytes, sessionOptions);
        using var runOptions = new RunOptions();
        float[] RunOnnx(BertBatch b) => OnnxSessions.RunText(session, runOptions, b);
        float[] RunInt8(BertBatch b) => OnnxSessions.RunText(int8Session, runOptions, b);
        var network = model.Model;
        network.eval();
        float[] RunTorch(BertBatch b)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var p = nn.functional.softmax(network.forward(tensor(b.InputIds, b.Shape), tensor(b.AttentionMask, b.Shape), tensor(b.TokenTypeIds, b.Shape)), 1);
            return p.data<float>().ToArray();
        }

        double maxDiff = RunOnnx(batches[0]).Zip(RunTorch(batches[0]), (a, b) => Math.Abs(a - b)).Max();   // also the warm-up
        var (int8MaxDiff, int8MeanDiff, sameArgmax) = Int8Cost(batches, RunOnnx, RunInt8);                 // and the int8 warm-up
        double onnx = 0, torch = 0, int8 = 0;
        var ratios = new List<double>();
        var int8Ratios = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            double onnxSeconds = 0, torchSeconds = 0, int8Seconds = 0;
            foreach (var b in batches)
            {
                double a = Time(() => RunOnnx(b)), t = Time(() => RunTorch(b)), q = Time(() => RunInt8(b));
                onnxSeconds += a;
                torchSeconds += t;
                int8Seconds += q;
                if (b.BatchSize == batchSize) { ratios.Add(t / a); int8Ratios.Add(t / q); }
            }
            onnx = Math.Max(onnx, texts.Length / onnxSeconds);
            torch = Math.Max(torch, texts.Length / torchSeconds);
            int8 = Math.Max(int8, texts.Length / int8Seconds);
        }
        ratios.Sort();
        int8Ratios.Sort();
        var int8Result = new Int8Result(int8, int8Ratios.Count == 0 ? double.NaN : int8Ratios[int8Ratios.Count / 2],
            int8MaxDiff, int8MeanDiff, sameArgmax, texts.Length, int8Ops);

        double transform = TransformRate(ml, view, model, texts.Length);
        var (encode, chainRate) = Tokenization(ml, view, texts, tokenizer, maxLength, batchSize);
        return new TextInferenceResult(onnx, torch, ratios.Count == 0 ? double.NaN : ratios[ratios.Count / 2], maxDiff, transform, encode, chainRate,
            writtenNodes, optimizedOps, int8Result);
    }

    /// <summary>The int8 export against the float32 one on every batch: max and mean |Δp| and how many argmax agree.</summary>
    private static (double Max, double Mean, int SameArgmax) Int8Cost(BertBatch[] batches, Func<BertBatch, float[]> fp32, Func<BertBatch, float[]> int8)
    {
        double max = 0, sum = 0;
        int same = 0, count = 0;
        foreach (var b in batches)
        {
            float[] p = fp32(b), q = int8(b);
            int k = p.Length / b.BatchSize;
            for (int i = 0; i < b.BatchSize; i++)
            {
                var rowP = p.AsSpan(i * k, k);
                var rowQ = q.AsSpan(i * k, k);
                for (int j = 0; j < k; j++) { double d = Math.Abs(rowP[j] - rowQ[j]); max = Math.Max(max, d); sum += d; count++; }
                if (rowP.IndexOf(MaxOf(rowP)) == rowQ.IndexOf(MaxOf(rowQ))) same++;
            }
        }
        return (max, sum / count, same);
    }

    private static float MaxOf(ReadOnlySpan<float> values)
    {
        float m = float.NegativeInfinity;
        foreach (var v in values) m = Math.Max(m, v);
        return m;
    }

    /// <summary>The fitted model's tokenizer (its vocabulary, written out by SaveOnnx).</summary>
    public static BertTextTokenizer Tokenizer(LoraTextClassifierTransformer model)
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnet-finetuning-textbench-" + Guid.NewGuid().ToString("N"));
        model.SaveOnnx(dir);
        var tokenizer = BertTextTokenizer.Create(Path.Combine(dir, "vocab.txt"), lowerCase: true);
        Directory.Delete(dir, true);
        return tokenizer;
    }

    /// <summary>ML.NET's row-at-a-time Transform (tokenization, ONNX Runtime) over <paramref name="view"/>, which has
    /// <paramref name="rows"/> rows, reading every Score: rows per second.</summary>
    public static double TransformRate(MLContext ml, IDataView view, LoraTextClassifierTransformer model, int rows)
    {
        ReadColumn<float>(model.Transform(ml.Data.TakeRows(view, 4)), "Score");   // warm-up
        return rows / Time(() => ReadColumn<float>(model.Transform(view), "Score"));
    }

    /// <summary>Texts per second of <see cref="BertTextTokenizer.EncodeBatch"/> and of the saved model's tokenization chain.</summary>
    public static (double EncodeBatch, double Chain) Tokenization(MLContext ml, IDataView view, string[] texts, BertTextTokenizer tokenizer,
        int maxLength, int batchSize)
    {
        tokenizer.EncodeBatch(texts.Take(batchSize).ToArray(), null, maxLength);
        double encode = texts.Length / Time(() => { foreach (var c in texts.Chunk(batchSize)) tokenizer.EncodeBatch(c, null, maxLength); });
        var chain = TextTokenizationPipeline.Build(ml, "Text", null, tokenizer.Vocabulary, tokenizer.LowerCase, maxLength).Fit(view);
        ReadColumn<long>(chain.Transform(ml.Data.TakeRows(view, 4)), BertExporter.InputIdsInput);
        double chainRate = texts.Length / Time(() => ReadColumn<long>(chain.Transform(view), BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput));
        return (encode, chainRate);
    }

    public static double Time(Action run)
    {
        var sw = Stopwatch.StartNew();
        run();
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>Reads every row's vector in the named columns (forcing the lazy transforms to run).</summary>
    private static void ReadColumn<T>(IDataView scored, params string[] names)
    {
        var columns = names.Select(n => scored.Schema[n]).ToArray();
        using var cursor = scored.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<VBuffer<T>>(c)).ToArray();
        VBuffer<T> value = default;
        while (cursor.MoveNext())
            foreach (var g in getters) g(ref value);
    }
}
