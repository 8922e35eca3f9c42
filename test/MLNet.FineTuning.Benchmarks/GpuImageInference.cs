using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>Inference figures of the GPU mode; null where a part did not run or failed.</summary>
internal sealed record GpuImageInferenceResult(double? TorchFloat32, double? TorchBFloat16, double? Onnx, int OnnxImages, int OnnxThreads,
    double? MaxDifferenceFloat32, double? MaxDifferenceBFloat16, GpuOnnxInferenceResult OnDevice);

/// <summary>
/// Part 2 of the GPU mode: the fitted classifier's TorchSharp forward on the device (eval, no_grad, 0..255 batches
/// already on the device, normalisation, network and softmax, each batch's probabilities read back to the host, which
/// also waits for the device) in fp32 and, when asked, in bf16; ONNX Runtime's CPU provider on the exported model for
/// comparison, on the first images only, because the CPU is ~50× slower; and ONNX Runtime on the device
/// (<see cref="GpuOnnxInference"/>: its CUDA provider, which the GPU machine has when eng/gpu/pack.sh --ort-cuda carried it).
/// </summary>
internal static class GpuImageInference
{
    /// <summary>Most images ONNX Runtime's CPU provider scores (whole batches): 311 img/s on 16 cores at 224 px
    /// (measured with eng/gpu/device-checks.sh), so a pass takes under 2 s.</summary>
    public const int OnnxImageLimit = 512;

    public static GpuImageInferenceResult Run(BenchmarkData data, FineTuneImageClassifierTransformer model,
        IReadOnlyList<(Tensor Images, Tensor Labels)> deviceBatches, GpuSetup gpu, bool bf16, int batchSize, int threads, int repeats,
        List<string> failures)
    {
        int images = deviceBatches.Sum(b => (int)b.Images.shape[0]);
        var network = model.Model;
        var preprocessing = model.Preprocessing;
        network.to(gpu.Device);
        network.eval();
        float[] RunTorch(int i, ScalarType dtype)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var x = preprocessing.Apply(deviceBatches[i].Images).to(dtype);
            var p = nn.functional.softmax(network.forward(x).to(float32), 1).cpu();   // the read-back waits for the device
            return i == 0 ? p.data<float>().ToArray() : [];
        }
        // Passes over every batch (a pass takes a fraction of a second on a GPU): the first batch's probabilities, then
        // gpu.BestRate's warm-up pass and the best of at least three.
        (double Rate, float[] First) TimeTorch(ScalarType dtype)
        {
            var first = RunTorch(0, dtype);
            return (gpu.BestRate(images, repeats, () => { for (int i = 0; i < deviceBatches.Count; i++) RunTorch(i, dtype); }), first);
        }

        // ONNX Runtime, CPU provider, on the first whole batches up to OnnxImageLimit images.
        var ranges = data.BatchRanges(batchSize, train: false).ToArray();
        int onnxBatches = Math.Max(1, Math.Min(ranges.Length, OnnxImageLimit / batchSize));
        var onnxRanges = ranges.Take(onnxBatches).ToArray();
        int onnxImages = onnxRanges.Sum(r => r.Count);
        double? onnx = null;
        float[]? onnxFirst = null;
        GpuSetup.Attempt("ONNX Runtime CPU inference", () =>
        {
            using var sessionOptions = OnnxSessions.Options(threads);
            using var session = new InferenceSession(model.OnnxModel.ToArray(), sessionOptions);
            using var runOptions = new RunOptions();
            var inputs = onnxRanges.Select(r => OrtValue.CreateTensorValueFromMemory(data.BatchPixels(r.Start, r.Count),
                [r.Count, 3, data.ImageSize, data.ImageSize])).ToArray();
            try
            {
                string[] outputs = ["probabilities"];
                float[] RunOnnx(int i)
                {
                    using var result = session.Run(runOptions, new Dictionary<string, OrtValue> { ["pixels"] = inputs[i] }, outputs);
                    return i == 0 ? result[0].GetTensorDataAsSpan<float>().ToArray() : [];
                }
                onnxFirst = RunOnnx(0);   // also the warm-up
                double best = 0;
                for (int r = 0; r < repeats; r++)
                {
                    var sw = Stopwatch.StartNew();
                    for (int i = 0; i < inputs.Length; i++) RunOnnx(i);
                    best = Math.Max(best, onnxImages / sw.Elapsed.TotalSeconds);
                }
                onnx = best;
            }
            finally
            {
                foreach (var v in inputs) v.Dispose();
            }
        }, failures);

        var onDevice = GpuOnnxInference.Images(model.OnnxModel.ToArray(), data, deviceBatches, gpu, batchSize, threads, repeats, onnxFirst, failures);

        double? MaxDifference(float[] torchFirst) => GpuOnnxInference.LargestDifference(onnxFirst, torchFirst);
        double? fp32 = null, bf16Rate = null, fp32Diff = null, bf16Diff = null;
        GpuSetup.Attempt($"TorchSharp fp32 inference on {gpu.Device}", () =>
        {
            var (rate, first) = TimeTorch(float32);
            (fp32, fp32Diff) = (rate, MaxDifference(first));
        }, failures);
        if (bf16)
            GpuSetup.Attempt($"TorchSharp bf16 inference on {gpu.Device}", () =>
            {
                network.to(bfloat16);
                var (rate, first) = TimeTorch(bfloat16);
                (bf16Rate, bf16Diff) = (rate, MaxDifference(first));
            }, failures);
        return new GpuImageInferenceResult(fp32, bf16Rate, onnx, onnxImages, threads, fp32Diff, bf16Diff, onDevice);
    }
}
