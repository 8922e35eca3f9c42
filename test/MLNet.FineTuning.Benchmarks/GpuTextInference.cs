using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>Inference and tokenization figures of the text GPU mode; null where a part failed.</summary>
internal sealed record GpuTextInferenceResult(double? TorchFloat32, double? TorchBFloat16, double? Onnx, int OnnxTexts,
    double? MaxDifferenceFloat32, double? MaxDifferenceBFloat16, double? Transform, int TransformTexts, double? EncodeBatch, double? Chain,
    GpuOnnxInferenceResult OnDevice);

/// <summary>
/// Parts 2 and 3 of the text GPU mode: the fitted LoRA model's (adapters merged) TorchSharp forward on the device (eval,
/// no_grad, batches padded per batch by <see cref="BertTextTokenizer.EncodeBatch"/> and placed on the device beforehand,
/// probabilities read back per batch, which also waits for the device) in fp32 and, when asked, bf16; ONNX Runtime's
/// CPU provider and ML.NET's row-at-a-time Transform on the first texts only; ONNX Runtime on the device over every batch
/// (<see cref="GpuOnnxInference.Texts"/>); tokenization as in the CPU mode.
/// </summary>
internal static class GpuTextInference
{
    /// <summary>Most texts the CPU-bound parts (ONNX Runtime, Transform) score, so that they take seconds, not minutes.</summary>
    public const int CpuTextLimit = 256;

    public static GpuTextInferenceResult Run(MLContext ml, IDataView view, TextBenchmark.Row[] rows, LoraTextClassifierTransformer model,
        int maxLength, int batchSize, GpuSetup gpu, bool bf16, int threads, int repeats, List<string> failures)
    {
        var tokenizer = TextInference.Tokenizer(model);
        var texts = rows.Select(r => r.Text).ToArray();
        var batches = texts.Chunk(batchSize).Select(c => tokenizer.EncodeBatch(c, null, maxLength)).ToArray();
        var network = model.Model;
        network.to(gpu.Device);
        network.eval();
        var deviceBatches = batches.Select(b => (
            Ids: tensor(b.InputIds, b.Shape, device: gpu.Device),
            Mask: tensor(b.AttentionMask, b.Shape, device: gpu.Device),
            Types: tensor(b.TokenTypeIds, b.Shape, device: gpu.Device))).ToArray();
        float[] RunTorch(int i)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var (ids, mask, types) = deviceBatches[i];
            var p = nn.functional.softmax(network.forward(ids, mask, types).to(float32), 1).cpu();   // the read-back waits for the device
            return i == 0 ? p.data<float>().ToArray() : [];
        }
        // The first batch's probabilities, then gpu.BestRate's warm-up pass and the best of at least three.
        (double Rate, float[] First) TimeTorch()
        {
            var first = RunTorch(0);
            return (gpu.BestRate(texts.Length, repeats, () => { for (int i = 0; i < deviceBatches.Length; i++) RunTorch(i); }), first);
        }

        var onnxBatches = batches.Take(Math.Max(1, CpuTextLimit / batchSize)).ToArray();
        int onnxTexts = onnxBatches.Sum(b => b.BatchSize);
        double? onnx = null;
        float[]? onnxFirst = null;
        GpuSetup.Attempt("ONNX Runtime CPU inference", () =>
        {
            using var sessionOptions = OnnxSessions.Options(threads);
            using var session = new InferenceSession(model.OnnxModel.ToArray(), sessionOptions);
            using var runOptions = new RunOptions();
            float[] RunOnnx(BertBatch b) => OnnxSessions.RunText(session, runOptions, b);
            onnxFirst = RunOnnx(onnxBatches[0]);   // also the warm-up
            double best = 0;
            for (int r = 0; r < repeats; r++)
                best = Math.Max(best, onnxTexts / TextInference.Time(() => { foreach (var b in onnxBatches) RunOnnx(b); }));
            onnx = best;
        }, failures);

        var onDevice = GpuOnnxInference.Texts(model.OnnxModel.ToArray(), batches, gpu, threads, repeats, onnxFirst, failures);

        double? MaxDifference(float[] torchFirst) => GpuOnnxInference.LargestDifference(onnxFirst, torchFirst);
        double? fp32 = null, bf16Rate = null, fp32Diff = null, bf16Diff = null;
        try
        {
            GpuSetup.Attempt($"TorchSharp fp32 inference on {gpu.Device}", () =>
            {
                var (rate, first) = TimeTorch();
                (fp32, fp32Diff) = (rate, MaxDifference(first));
            }, failures);
            if (bf16)
                GpuSetup.Attempt($"TorchSharp bf16 inference on {gpu.Device}", () =>
                {
                    network.to(bfloat16);
                    var (rate, first) = TimeTorch();
                    (bf16Rate, bf16Diff) = (rate, MaxDifference(first));
                }, failures);
        }
        finally
        {
            foreach (var (ids, mask, types) in deviceBatches) { ids.Dispose(); mask.Dispose(); types.Dispose(); }
        }

        // ML.NET's Transform scores with ONNX Runtime on the CPU, one row at a time: the first texts only.
        int transformTexts = Math.Min(texts.Length, CpuTextLimit);
        double? transform = null, encode = null, chain = null;
        GpuSetup.Attempt("ML.NET Transform", () => transform = TextInference.TransformRate(ml, ml.Data.TakeRows(view, transformTexts), model, transformTexts), failures);
        GpuSetup.Attempt("tokenization", () => (encode, chain) = TextInference.Tokenization(ml, view, texts, tokenizer, maxLength, batchSize), failures);
        return new GpuTextInferenceResult(fp32, bf16Rate, onnx, onnxTexts, fp32Diff, bf16Diff, transform, transformTexts, encode, chain, onDevice);
    }
}
