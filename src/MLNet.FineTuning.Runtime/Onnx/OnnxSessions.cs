using Microsoft.ML.OnnxRuntime;

namespace MLNet.FineTuning.Runtime.Onnx;

/// <summary>Opens an ONNX Runtime session on a CUDA device or the CPU, with ML.NET's <c>FallbackToCpu</c> convention:
/// the one place that decides, for the runtime's <see cref="ExportedClassifier"/> and the library's batched scorer.</summary>
internal static class OnnxSessions
{
    /// <summary>Opens with <paramref name="open"/> (given the CUDA provider's options, or null for the CPU's defaults). With a
    /// <paramref name="gpuDeviceId"/> and <paramref name="fallbackToCpu"/>, a CUDA provider that cannot start (no GPU, no
    /// CUDA build of ONNX Runtime) gives a CPU session instead; <c>OnCuda</c> says which was opened.</summary>
    public static (InferenceSession Session, bool OnCuda) Open(Func<SessionOptions?, InferenceSession> open, int? gpuDeviceId, bool fallbackToCpu)
    {
        if (gpuDeviceId is int id)
        {
            try
            {
                return (open(SessionOptions.MakeSessionOptionWithCudaProvider(id)), true);
            }
            catch (Exception e) when (fallbackToCpu && e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
            {
                // ML.NET's FallbackToCpu convention: the CPU provider takes over.
            }
        }
        return (open(null), false);
    }
}
