using TorchSharp;

namespace MLNet.FineTuning;

/// <summary>
/// Scalars that per-step code hands to libtorch, created so that no garbage collection can free them during the native
/// call (docs/scalar-lifetime.md): the constants live in static fields, and <see cref="Of"/> gives a scalar that the
/// caller disposes after the call (<c>using var s = KeptScalars.Of(x);</c>). TorchSharp's overloads without an alpha
/// (<c>add_(Tensor)</c>, <c>add(Tensor)</c>; <c>sub</c> has none) make a temporary alpha of 1 that only a finalizer frees: pass
/// <see cref="One"/> instead.
/// </summary>
internal static class KeptScalars
{
    public static readonly Scalar One = 1.ToScalar();

    public static Scalar Of(double value) => value.ToScalar();
}
