using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MLNet.FineTuning;

/// <summary>
/// Where a tensor's memory starts. TorchSharp 0.107 keeps the data pointer internal (its <c>Storage.data_ptr</c> is
/// protected); LibTorchSharp, the native library it ships, exports it. Two tensors share memory when their storages start
/// at the same address (<see cref="Training.FlatAdamW"/> tells a gradient that is already its buffer's view this way), and
/// a contiguous tensor with storage offset 0 can be lent to another native library in place (the GPU benchmark hands
/// TorchSharp's device batches to ONNX Runtime).
/// </summary>
internal static class TensorStorage
{
    [DllImport("LibTorchSharp")]
    private static extern IntPtr THSStorage_data_ptr(IntPtr tensor);

    /// <summary>The address of the first element of <paramref name="tensor"/>'s storage (on its device).</summary>
    public static IntPtr Start(Tensor tensor)
    {
        IntPtr start = THSStorage_data_ptr(tensor.Handle);
        // Once its handle is read, a wrapper nothing else holds can be finalized mid-call (docs/scalar-lifetime.md).
        GC.KeepAlive(tensor);
        return start;
    }
}
