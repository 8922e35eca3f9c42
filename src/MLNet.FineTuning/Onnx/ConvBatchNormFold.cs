using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// A convolution followed by an eval-mode BatchNorm, written as one Conv: what every CNN exporter writes for its
/// conv + norm pairs. Folding drops a third of the nodes and one full pass over every activation map; ONNX Runtime would
/// fuse Conv+BatchNormalization itself only at its higher optimisation levels.
/// </summary>
internal static class ConvBatchNormFold
{
    /// <summary>
    /// conv then eval-mode batchnorm as one Conv: with s = γ / √(var + ε), W' = W·s (per output channel)
    /// and b' = (b − mean)·s + β. Computed in float64 so the fold itself adds no rounding beyond the final cast.
    /// </summary>
    public static string Write(OnnxGraphWriter writer, string x, Conv2d conv, BatchNorm2d bn, string name)
    {
        // Same/Valid padding leaves padding null; the backbones always give explicit sizes.
        if (conv.padding is not { } padding || conv.padding_mode != PaddingModes.Zeros)
            throw new NotSupportedException($"ONNX export: {name} uses {conv.padding_type?.ToString() ?? conv.padding_mode.ToString()} padding; only explicit zero padding is written.");
        if (bn.running_mean is null || bn.running_var is null)
            throw new NotSupportedException($"ONNX export: the BatchNorm after {name} keeps no running statistics.");

        // Explicit, kept-alive scalars (docs/scalar-lifetime.md): add(double) and add(Tensor) make temporaries that a
        // collection during the native call can free.
        using var eps = KeptScalars.Of(bn.eps);
        var one = KeptScalars.One;
        var scale = bn.running_var.to(float64).add(eps, one).rsqrt();
        if (bn.weight is not null) scale = scale.mul(bn.weight.to(float64));
        var bias = conv.bias is null ? zeros_like(scale) : conv.bias.to(float64);
        bias = bias.sub(bn.running_mean.to(float64)).mul(scale);
        if (bn.bias is not null) bias = bias.add(bn.bias.to(float64), one);
        var weight = conv.weight!.to(float64).mul(scale.view(-1, 1, 1, 1));

        long[] pads = [.. padding, .. padding];
        return writer.Conv(x, writer.AddTensorInitializer($"{name}.weight", weight),
            writer.AddTensorInitializer($"{name}.bias", bias), conv.stride, pads, conv.dilation, conv.groups);
    }
}
