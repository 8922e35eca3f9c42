using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Runtime.Text;
using TensorElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>ONNX Runtime on the benchmark's device; null where a part did not run or failed.</summary>
/// <param name="HostInputs">img/s with every batch's pixels in host memory (what <c>PredictBatches</c> and a service do:
/// ONNX Runtime copies each batch to the device).</param>
/// <param name="DeviceInputs">img/s with the batches already on the device, lent to ONNX Runtime through I/O binding (the
/// PyTorch peer's conditions: its inputs are device tensors).</param>
/// <param name="MaxDifference">Largest |Δ probability| on the first batch against ONNX Runtime's CPU provider.</param>
internal sealed record GpuOnnxInferenceResult(string Provider, double? HostInputs, double? DeviceInputs, int Images, double? MaxDifference);

/// <summary>
/// Issue 10's GPU scoring figure: the exported image classifier under ONNX Runtime's CUDA provider, batched, two ways
/// (inputs from the host, inputs on the device), probabilities read back to the host per batch either way, as the
/// TorchSharp and PyTorch inference figures are. The CUDA provider comes with <c>eng/gpu/pack.sh --ort-cuda</c>; where
/// it cannot load, this part fails by name and the others go on. In a dry run the CPU provider runs the same code, so
/// the I/O binding path is checked on the CPU (TorchSharp's CPU tensors lent to ONNX Runtime the same way).
/// </summary>
internal static class GpuOnnxInference
{
    /// <summary>Most images scored (whole batches): a few passes of 1,024 images at 224 px take seconds on a GPU, and
    /// the host copies of the pixels stay under 1 GB.</summary>
    public const int ImageLimit = 1024;

    public static GpuOnnxInferenceResult Images(byte[] onnx, BenchmarkData data, IReadOnlyList<(Tensor Images, Tensor Labels)> deviceBatches,
        GpuSetup gpu, int batchSize, int threads, int repeats, float[]? cpuFirst, List<string> failures)
    {
        string provider = gpu.IsCuda ? $"CUDA provider on {gpu.Device}" : "CPU provider (dry run)";
        var ranges = data.BatchRanges(batchSize, train: false).Take(Math.Max(1, Math.Min(deviceBatches.Count, ImageLimit / batchSize))).ToArray();
        int images = ranges.Sum(r => r.Count);
        double? host = null, bound = null, difference = null;
        GpuSetup.Attempt($"ONNX Runtime, {provider}", () =>
        {
            using var options = gpu.IsCuda ? SessionOptions.MakeSessionOptionWithCudaProvider(gpu.GpuDeviceId) : OnnxSessions.Options(threads);
            options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
            using var session = new InferenceSession(onnx, options);
            using var runOptions = new RunOptions();
            string[] outputs = ["probabilities"];

            // 1. Host inputs: session.Run copies each batch to the device and the probabilities back.
            var hostInputs = ranges.Select(r => OrtValue.CreateTensorValueFromMemory(data.BatchPixels(r.Start, r.Count),
                [r.Count, 3, data.ImageSize, data.ImageSize])).ToArray();
            try
            {
                float[] RunHost(int i)
                {
                    using var result = session.Run(runOptions, new Dictionary<string, OrtValue> { ["pixels"] = hostInputs[i] }, outputs);
                    return i == 0 ? result[0].GetTensorDataAsSpan<float>().ToArray() : [];
                }
                var first = RunHost(0);
                difference = LargestDifference(first, cpuFirst);
                host = gpu.BestRate(images, repeats, () => { for (int i = 0; i < hostInputs.Length; i++) RunHost(i); });
            }
            finally
            {
                foreach (var v in hostInputs) v.Dispose();
            }

            // 2. Device inputs: TorchSharp's batches lent to ONNX Runtime in place (no copy), outputs bound to host memory.
            var memory = gpu.IsCuda
                ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, gpu.GpuDeviceId, OrtMemType.Default)
                : OrtMemoryInfo.DefaultInstance;
            var lent = deviceBatches.Take(ranges.Length).Select(b => b.Images.to_type(float32, copy: true)).ToArray();
            var deviceInputs = lent.Select(t =>
            {
                if (t.storage_offset() != 0 || !t.is_contiguous()) throw new InvalidOperationException("a lent batch is not a whole contiguous tensor");
                return OrtValue.CreateTensorValueWithData(memory, TensorElementType.Float, t.shape, TensorStorage.Start(t), t.NumberOfElements * sizeof(float));
            }).ToArray();
            try
            {
                using var binding = session.CreateIoBinding();
                float[] RunBound(int i)
                {
                    binding.BindInput("pixels", deviceInputs[i]);
                    binding.BindOutputToDevice("probabilities", OrtMemoryInfo.DefaultInstance);
                    session.RunWithBinding(runOptions, binding);
                    using var result = binding.GetOutputValues();
                    return i == 0 ? result[0].GetTensorDataAsSpan<float>().ToArray() : [];
                }
                gpu.Synchronize();   // the lent tensors are written by TorchSharp's stream; ONNX Runtime uses its own
                var first = RunBound(0);
                if (LargestDifference(first, cpuFirst) is double d) difference = Math.Max(difference ?? 0, d);
                bound = gpu.BestRate(images, repeats, () => { for (int i = 0; i < deviceInputs.Length; i++) RunBound(i); });
            }
            finally
            {
                foreach (var v in deviceInputs) v.Dispose();
                foreach (var t in lent) t.Dispose();
            }
        }, failures);
        return new GpuOnnxInferenceResult(provider, host, bound, images, difference);
    }

    /// <summary>The text classifier's exported graph on the device over every batch (token ids from the host: a few KB
    /// per batch, so no I/O binding), probabilities read back per batch.</summary>
    public static GpuOnnxInferenceResult Texts(byte[] onnx, IReadOnlyList<BertBatch> batches, GpuSetup gpu, int threads, int repeats,
        float[]? cpuFirst, List<string> failures)
    {
        string provider = gpu.IsCuda ? $"CUDA provider on {gpu.Device}" : "CPU provider (dry run)";
        int texts = batches.Sum(b => b.BatchSize);
        double? rate = null, difference = null;
        GpuSetup.Attempt($"ONNX Runtime, {provider}", () =>
        {
            using var options = gpu.IsCuda ? SessionOptions.MakeSessionOptionWithCudaProvider(gpu.GpuDeviceId) : OnnxSessions.Options(threads);
            options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
            using var session = new InferenceSession(onnx, options);
            using var runOptions = new RunOptions();
            var first = OnnxSessions.RunText(session, runOptions, batches[0]);
            difference = LargestDifference(first, cpuFirst);
            rate = gpu.BestRate(texts, repeats, () => { foreach (var b in batches) OnnxSessions.RunText(session, runOptions, b); });
        }, failures);
        return new GpuOnnxInferenceResult(provider, rate, null, texts, difference);
    }

    /// <summary>Largest |a − b| over two runs' probabilities of the same batch; null when either run is missing.</summary>
    internal static double? LargestDifference(float[]? a, float[]? b) => a is null || b is null ? null : a.Zip(b, (x, y) => (double)Math.Abs(x - y)).Max();
}
