using static TorchSharp.torch;

namespace MLNet.FineTuning;

/// <summary>
/// Copies of weights that outlive the code that takes them (best-epoch snapshots, moving averages, starting weights,
/// fp32 state for a checkpoint). They are taken outside any dispose scope, where a temporary that only a finalizer
/// frees can be freed while libtorch still reads it (docs/scalar-lifetime.md): each step's tensor is kept in a local
/// until the next call has returned.
/// </summary>
internal static class TensorCopies
{
    /// <summary>A detached copy of <paramref name="t"/>, first converted to <paramref name="dtype"/> and moved to
    /// <paramref name="device"/> where given, owned by no dispose scope (the caller disposes it).</summary>
    public static Tensor Detached(Tensor t, ScalarType? dtype = null, Device? device = null)
    {
        using var detached = t.detach();
        using var converted = (dtype, device) switch
        {
            (ScalarType d, Device v) => detached.to(d, v),
            (ScalarType d, null) => detached.to(d),
            (null, Device v) => detached.to(v),
            _ => detached.alias(),
        };
        return converted.clone().DetachFromDisposeScope();
    }
}
