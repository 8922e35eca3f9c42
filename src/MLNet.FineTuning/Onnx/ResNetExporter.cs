using MLNet.FineTuning.Modeling;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a <see cref="ResNet"/> (mirrors Modeling/ResNet.cs) as inference ops: every BatchNorm is folded
/// into the convolution before it (<see cref="ConvBatchNormFold"/>), so the graph is Conv, Relu, MaxPool, Add,
/// GlobalAveragePool, Flatten.
/// </summary>
/// <remarks>
/// Folding drops a third of the nodes and one full pass over every activation map; ONNX Runtime would
/// fuse Conv+BatchNormalization itself only at its higher optimisation levels, and a folded graph is
/// equally fast at all of them. The export reads weights and running statistics only and runs no forward
/// pass, so the module's training mode is neither needed nor touched: the graph always computes what
/// the module computes in eval mode.
/// </remarks>
internal static class ResNetExporter
{
    /// <summary>Appends the network to <paramref name="writer"/>.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="model">The backbone.</param>
    /// <param name="input">Name of a normalised float image value [N,3,H,W].</param>
    /// <returns>Name of the pooled features [N, <see cref="ResNet.FeatureCount"/>].</returns>
    /// <exception cref="NotSupportedException">A module differs from what <see cref="ResNet"/> builds (names it).</exception>
    public static string Write(OnnxGraphWriter writer, ResNet model, string input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y = writer.Relu(ConvBatchNormFold.Write(writer, input, model.Conv1, model.Bn1, "conv1"));
        // The stem pool of ResNet.cs: MaxPool2d(kernel 3, stride 2, padding 1).
        y = writer.MaxPool(y, [3, 3], [2, 2], [1, 1, 1, 1]);
        int stage = 1;
        foreach (var layer in model.Stages)
        {
            int index = 0;
            foreach (var block in layer.children())
            {
                string prefix = $"layer{stage}.{index++}";
                y = block switch
                {
                    BasicBlock b => Block(writer, y, b.MainPath, b.Downsample, prefix),
                    BottleneckBlock b => Block(writer, y, b.MainPath, b.Downsample, prefix),
                    _ => throw new NotSupportedException($"ResNet export: {prefix} is a {block.GetType().Name}, not a BasicBlock or BottleneckBlock."),
                };
            }
            stage++;
        }
        return writer.Flatten(writer.GlobalAveragePool(y), axis: 1);
    }

    /// <summary>Main path (ReLU after every conv+bn but the last), shortcut, add, ReLU: both block types.</summary>
    private static string Block(OnnxGraphWriter writer, string x, IEnumerable<(Conv2d Conv, BatchNorm2d Norm)> mainPath,
        Sequential? downsample, string prefix)
    {
        var path = mainPath.ToArray();
        string y = x;
        for (int i = 0; i < path.Length; i++)
        {
            y = ConvBatchNormFold.Write(writer, y, path[i].Conv, path[i].Norm, $"{prefix}.conv{i + 1}");
            if (i < path.Length - 1) y = writer.Relu(y);
        }
        string shortcut = x;
        if (downsample is not null)
        {
            var parts = downsample.children().ToArray();
            if (parts is not [Conv2d conv, BatchNorm2d norm])
                throw new NotSupportedException($"ResNet export: {prefix}.downsample is not (Conv2d, BatchNorm2d).");
            shortcut = ConvBatchNormFold.Write(writer, x, conv, norm, $"{prefix}.downsample.0");
        }
        return writer.Relu(writer.Add(y, shortcut));
    }
}
