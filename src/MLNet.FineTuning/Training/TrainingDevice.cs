using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// Chooses where the gradient work runs, with ML.NET's own convention: CUDA device
/// <c>MLContext.GpuDeviceId</c> when it is set and a GPU is present; otherwise the CPU, unless
/// <c>MLContext.FallbackToCpu</c> is false, which makes a missing GPU an error.
/// </summary>
internal static class TrainingDevice
{
    public static Device Select(int? gpuDeviceId, bool fallbackToCpu)
    {
        if (gpuDeviceId is not int id) return CPU;
        if (cuda.is_available() && id >= 0 && id < cuda.device_count()) return new Device(DeviceType.CUDA, id);
        if (fallbackToCpu) return CPU;
        throw new InvalidOperationException(
            $"MLContext.GpuDeviceId is {id} but no such CUDA device is available to TorchSharp " +
            $"(cuda.is_available() = {cuda.is_available()}, devices = {(cuda.is_available() ? cuda.device_count() : 0)}). " +
            "Reference the CUDA backend (TorchSharp-cuda-linux, or -p:TorchBackend=cuda in this repo), or set MLContext.FallbackToCpu = true.");
    }
}
