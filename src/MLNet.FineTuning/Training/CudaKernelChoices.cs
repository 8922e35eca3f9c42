using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// The kernel choices a PyTorch user makes for training on CUDA, and which the PyTorch peer of the GPU figures makes
/// (eng/gpu/pytorch_peer.py): cuDNN's autotuner (<c>torch.backends.cudnn.benchmark</c>: for each new input shape cuDNN
/// times its convolution algorithms once and keeps the fastest, instead of taking a heuristic's guess; image batches keep
/// one shape) and, with <see cref="FineTuningOptions.AllowTf32"/>, TF32 tensor cores for fp32 matrix products and
/// convolutions (<c>allow_tf32</c>; libtorch allows them for convolutions only by default). These are libtorch's
/// process-wide settings: set for one training and given back as they were when it ends.
/// </summary>
/// <remarks>TorchSharp 0.107 exposes the TF32 switches but not the autotuner, so that one is set through libtorch's own
/// exported <c>at::Context</c> methods (Itanium C++ names, as on Linux); where they cannot be found the autotuner is left
/// off and the log says so. The autotuner may pick other algorithms in another run: on a GPU, runs with one seed then
/// differ by more than the order of addition (docs/reliability.md).</remarks>
internal sealed class CudaKernelChoices : IDisposable
{
    private readonly bool? autotunerBefore;
    private readonly bool matmulTf32Before, cudnnTf32Before;

    private CudaKernelChoices(bool allowTf32)
    {
        matmulTf32Before = backends.cuda.matmul.allow_tf32;
        cudnnTf32Before = backends.cudnn.allow_tf32;
        backends.cuda.matmul.allow_tf32 = allowTf32;
        backends.cudnn.allow_tf32 = allowTf32;
        autotunerBefore = CuDnnAutotuner.Enabled;
        if (autotunerBefore != null) CuDnnAutotuner.Enabled = true;
    }

    /// <summary>On a CUDA device, sets the choices above until disposed and says so through <paramref name="log"/>;
    /// null (nothing set) on the CPU.</summary>
    public static CudaKernelChoices? ForTraining(Device device, bool allowTf32, Action<string> log)
    {
        if (device.type != DeviceType.CUDA) return null;
        var choices = new CudaKernelChoices(allowTf32);
        log($"CUDA kernels: cuDNN autotuner {(choices.autotunerBefore != null ? "on" : "unavailable (libtorch's at::Context not found), left as it was")}, " +
            $"TF32 for fp32 matrix products and convolutions {(allowTf32 ? "on" : "off")} (AllowTf32)");
        return choices;
    }

    public void Dispose()
    {
        backends.cuda.matmul.allow_tf32 = matmulTf32Before;
        backends.cudnn.allow_tf32 = cudnnTf32Before;
        if (autotunerBefore is bool before) CuDnnAutotuner.Enabled = before;
    }
}

/// <summary><c>torch.backends.cudnn.benchmark</c>, through libtorch's exported <c>at::globalContext()</c>,
/// <c>at::Context::benchmarkCuDNN()</c> and <c>at::Context::setBenchmarkCuDNN(bool)</c>. The flag exists in every
/// libtorch build (the CPU one keeps it and never reads it), so the binding is checked on the CPU too.</summary>
internal static class CuDnnAutotuner
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr GlobalContext();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    [return: MarshalAs(UnmanagedType.U1)]
    private delegate bool GetFlag(IntPtr context);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetFlag(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool value);

    private static readonly Lazy<(IntPtr Context, GetFlag Get, SetFlag Set)?> Binding = new(Bind);

    /// <summary>The autotuner's setting, or null where libtorch's methods cannot be found (then setting does nothing).</summary>
    public static bool? Enabled
    {
        get => Binding.Value is var (context, get, _) ? get(context) : null;
        set
        {
            if (Binding.Value is var (context, _, set) && value is bool on) set(context, on);
        }
    }

    private static (IntPtr, GetFlag, SetFlag)? Bind()
    {
        _ = cuda.is_available();   // TorchSharp loads libtorch first; the name then finds the loaded library
        if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libtorch_cpu.so", out var library)) return null;
        if (!NativeLibrary.TryGetExport(library, "_ZN2at13globalContextEv", out var globalContext)
            || !NativeLibrary.TryGetExport(library, "_ZNK2at7Context14benchmarkCuDNNEv", out var get)
            || !NativeLibrary.TryGetExport(library, "_ZN2at7Context17setBenchmarkCuDNNEb", out var set))
            return null;
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(globalContext)();
        return (context, Marshal.GetDelegateForFunctionPointer<GetFlag>(get), Marshal.GetDelegateForFunctionPointer<SetFlag>(set));
    }
}
