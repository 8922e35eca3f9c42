using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

internal sealed record InferenceResult(double OnnxImagesPerSecond, double TorchImagesPerSecond, double TransformImagesPerSecond,
    double MaxProbabilityDifference, int OnnxThreads, double MedianBatchRatio);

/// <summary>
/// Part 2: CPU inference of the fitted classifier on the same centre-cropped 0..255 images, in batches:
/// ONNX Runtime on the exported model (its graph includes the normalisation) against TorchSharp's eval-mode
/// forward under no_grad (normalisation, network, softmax), and, for reference, ML.NET's row-at-a-time
/// <c>Transform</c> of the fitted transformer (which also decodes and resizes each image).
/// </summary>
internal static class InferenceBenchmark
{
    public static InferenceResult Run(MLContext ml, BenchmarkData data, FineTuneImageClassifierTransformer model, int batchSize, int threads, int repeats)
    {
        var ranges = data.BatchRanges(batchSize, train: false).ToArray();

        using var sessionOptions = OnnxSessions.Options(threads);
        using var session = new InferenceSession(model.OnnxModel.ToArray(), sessionOptions);
        using var runOptions = new RunOptions();
        var onnxInputs = ranges.Select(r => OrtValue.CreateTensorValueFromMemory(data.BatchPixels(r.Start, r.Count),
            [r.Count, 3, data.ImageSize, data.ImageSize])).ToArray();
        string[] outputs = ["probabilities"];
        float[] RunOnnx(int i)
        {
            using var result = session.Run(runOptions, new Dictionary<string, OrtValue> { ["pixels"] = onnxInputs[i] }, outputs);
            return i == 0 ? result[0].GetTensorDataAsSpan<float>().ToArray() : [];
        }

        var torchInputs = data.Tensors(batchSize, train: false, normalise: null);
        var network = model.Model;
        var preprocessing = model.Preprocessing;
        network.eval();
        float[] RunTorch(int i)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var p = nn.functional.softmax(network.forward(preprocessing.Apply(torchInputs[i].Images)), 1);
            return i == 0 ? p.data<float>().ToArray() : [];
        }

        try
        {
            // Warm-up: one batch each (first-run allocations, ONNX Runtime's arena, torch's kernels).
            var onnxFirst = RunOnnx(0);
            var torchFirst = RunTorch(0);
            double maxDiff = onnxFirst.Zip(torchFirst, (a, b) => Math.Abs(a - b)).Max();

            // Interleaved batch by batch (ONNX Runtime, then TorchSharp, on the same batch), so that load from other
            // processes on a shared machine hits both alike; each engine's figure is its best pass.
            double onnx = 0, torch = 0;
            var ratios = new List<double>();
            for (int r = 0; r < repeats; r++)
            {
                double onnxSeconds = 0, torchSeconds = 0;
                for (int i = 0; i < ranges.Length; i++)
                {
                    double a = Time(() => RunOnnx(i)), b = Time(() => RunTorch(i));
                    onnxSeconds += a;
                    torchSeconds += b;
                    if (ranges[i].Count == batchSize) ratios.Add(b / a);
                }
                int images = ranges.Sum(x => x.Count);
                onnx = Math.Max(onnx, images / onnxSeconds);
                torch = Math.Max(torch, images / torchSeconds);
            }
            ratios.Sort();
            double transform = TransformThroughput(ml, data, model);
            return new InferenceResult(onnx, torch, transform, maxDiff, threads, ratios.Count == 0 ? double.NaN : ratios[ratios.Count / 2]);
        }
        finally
        {
            foreach (var v in onnxInputs) v.Dispose();
            foreach (var (x, y) in torchInputs) { x.Dispose(); y.Dispose(); }
        }
    }

    private static double Time(Action run)
    {
        var sw = Stopwatch.StartNew();
        run();
        return sw.Elapsed.TotalSeconds;
    }

    /// <summary>Scores the data view through the fitted transformer and reads every Score: ML.NET's OnnxTransformer
    /// runs one row at a time (one ONNX Runtime call per row), after LoadImages, ResizeImages and ExtractPixels.</summary>
    private static double TransformThroughput(MLContext ml, BenchmarkData data, FineTuneImageClassifierTransformer model)
    {
        static int ReadScores(IDataView scored)
        {
            var column = scored.Schema["Score"];
            using var cursor = scored.GetRowCursor([column]);
            var getter = cursor.GetGetter<VBuffer<float>>(column);
            VBuffer<float> score = default;
            int rows = 0;
            while (cursor.MoveNext()) { getter(ref score); rows++; }
            return rows;
        }
        ReadScores(model.Transform(ml.Data.TakeRows(data.View, 4)));   // warm-up
        var sw = Stopwatch.StartNew();
        int rows = ReadScores(model.Transform(data.View));
        return rows / sw.Elapsed.TotalSeconds;
    }
}
