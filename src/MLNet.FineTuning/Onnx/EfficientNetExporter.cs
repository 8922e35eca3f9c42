using MLNet.FineTuning.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes an <see cref="EfficientNet"/> (mirrors Modeling/EfficientNet.cs) as inference ops: every conv + BatchNorm pair
/// folded into one Conv (<see cref="ConvBatchNormFold"/>), SiLU as x·Sigmoid(x), squeeze-and-excitation as
/// GlobalAveragePool, two 1×1 Convs and a Mul. Stochastic depth is the identity at inference and is not written.
/// Reads weights and running statistics only; the module's training mode is neither needed nor touched.
/// </summary>
internal static class EfficientNetExporter
{
    /// <summary>Appends the network to <paramref name="writer"/>.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="model">The backbone.</param>
    /// <param name="input">Name of a normalised float image value [N,3,H,W].</param>
    /// <returns>Name of the pooled features [N, <see cref="EfficientNet.FeatureCount"/>].</returns>
    /// <exception cref="NotSupportedException">A module differs from what <see cref="EfficientNet"/> builds (names it).</exception>
    public static string Write(OnnxGraphWriter writer, EfficientNet model, string input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = model.Features.children().ToArray();
        string y = ConvNormActivation(writer, input, layers[0], "features.0");
        for (int stage = 1; stage < layers.Length - 1; stage++)
        {
            int index = 0;
            foreach (var block in layers[stage].children())
            {
                string prefix = $"features.{stage}.{index++}";
                y = block is MBConvBlock mb ? Block(writer, y, mb, prefix)
                    : throw new NotSupportedException($"EfficientNet export: {prefix} is a {block.GetType().Name}, not an MBConv block.");
            }
        }
        y = ConvNormActivation(writer, y, layers[^1], $"features.{layers.Length - 1}");
        return writer.Flatten(writer.GlobalAveragePool(y), axis: 1);
    }

    private static string Block(OnnxGraphWriter writer, string x, MBConvBlock block, string prefix)
    {
        string y = x;
        int index = 0;
        foreach (var layer in block.Layers)
        {
            string name = $"{prefix}.block.{index++}";
            y = layer is SqueezeExcitation se ? SqueezeExcitation(writer, y, se, name) : ConvNormActivation(writer, y, layer, name);
        }
        return block.Residual ? writer.Add(y, x) : y;
    }

    /// <summary>Conv + BatchNorm (folded), then SiLU when the module has one.</summary>
    private static string ConvNormActivation(OnnxGraphWriter writer, string x, nn.Module layer, string name)
    {
        var parts = layer.children().ToArray();
        if (parts is not [Conv2d conv, BatchNorm2d norm, ..] || parts.Length > 3 || (parts.Length == 3 && parts[2] is not SiLU))
            throw new NotSupportedException($"EfficientNet export: {name} is not (Conv2d, BatchNorm2d[, SiLU]).");
        string y = ConvBatchNormFold.Write(writer, x, conv, norm, name);
        return parts.Length == 3 ? Silu(writer, y) : y;
    }

    private static string SqueezeExcitation(OnnxGraphWriter writer, string x, SqueezeExcitation se, string name)
    {
        string s = writer.GlobalAveragePool(x);
        s = Silu(writer, Conv1x1(writer, s, se.Fc1, $"{name}.fc1"));
        s = writer.Sigmoid(Conv1x1(writer, s, se.Fc2, $"{name}.fc2"));
        return writer.Mul(x, s);
    }

    private static string Conv1x1(OnnxGraphWriter writer, string x, Conv2d conv, string name) =>
        writer.Conv(x, writer.AddTensorInitializer($"{name}.weight", conv.weight!),
            conv.bias is null ? null : writer.AddTensorInitializer($"{name}.bias", conv.bias), [1, 1], [0, 0, 0, 0]);

    private static string Silu(OnnxGraphWriter writer, string x) => writer.Mul(x, writer.Sigmoid(x));
}
