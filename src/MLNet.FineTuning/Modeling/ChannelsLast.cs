using static TorchSharp.torch;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// The channels-last layout: an NCHW-shaped tensor whose strides are NHWC's, which libtorch treats as its
/// <c>channels_last</c> memory format (TorchSharp 0.107 has no <c>memory_format</c> argument to ask for it by name).
/// Convolutions, BatchNorm and pointwise kernels keep the layout; a parameter takes it in place, and TorchSharp's
/// <c>to(device)</c>, <c>to(dtype)</c> and <c>clone</c> keep it. Writers that read raw bytes (safetensors, TorchSharp's
/// <c>Save</c>) refuse such tensors: they get contiguous copies (<see cref="Contiguous"/>).
/// </summary>
internal static class ChannelsLast
{
    /// <summary>A 4-d tensor's values laid out in NHWC order, its shape unchanged (a new tensor, or an alias when it already is).</summary>
    public static Tensor Of(Tensor x)
    {
        if (Is(x)) return x.alias();
        // Kept in locals: Relayout runs outside any dispose scope, and a temporary handed to native code can be
        // finalized mid-call (docs/scalar-lifetime.md).
        using var nhwc = x.permute(0, 2, 3, 1);
        using var packed = nhwc.contiguous();
        return packed.permute(0, 3, 1, 2);
    }

    /// <summary>Whether <paramref name="x"/> is 4-d with NHWC strides (channels vary fastest). A dimension of size 1 has
    /// no stride that matters, so a 1×1 kernel is both contiguous and channels-last (libtorch's rule too).</summary>
    public static bool Is(Tensor x) =>
        x.dim() == 4 && x.shape[1] > 1 && x.stride(1) == 1
        && (x.shape[3] == 1 || x.stride(3) == x.shape[1]) && (x.shape[2] == 1 || x.stride(2) == x.shape[1] * x.shape[3]);

    /// <summary>Lays every 4-d parameter of <paramref name="module"/> out channels-last, in place (the same Parameter
    /// objects, so an optimizer made afterwards sees the layout).</summary>
    public static void Apply(nn.Module module) => Relayout(module, toChannelsLast: true);

    /// <summary>Lays every 4-d parameter of <paramref name="module"/> out contiguously again, in place.</summary>
    public static void Undo(nn.Module module) => Relayout(module, toChannelsLast: false);

    /// <summary>Each tensor as a writer of raw bytes needs it: itself when contiguous, else a contiguous copy that
    /// <paramref name="copies"/> collects for the caller to dispose.</summary>
    public static Dictionary<string, Tensor> Contiguous(IEnumerable<KeyValuePair<string, Tensor>> tensors, List<Tensor> copies) =>
        tensors.ToDictionary(kv => kv.Key, kv =>
        {
            if (kv.Value.is_contiguous()) return kv.Value;
            var copy = kv.Value.contiguous();
            copies.Add(copy);
            return copy;
        });

    private static void Relayout(nn.Module module, bool toChannelsLast)
    {
        using var _ = no_grad();
        foreach (var p in module.parameters().Where(p => p.dim() == 4 && Is(p) != toChannelsLast))
        {
            using var laidOut = toChannelsLast ? Of(p) : p.contiguous();
            p.set_(laidOut);
        }
    }
}
