using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// ResNet feature extractor (He et al. 2015, "Deep Residual Learning"), torchvision layout without
/// the classifier: <c>conv1, bn1, layer1..layer4</c>, global average pooling. Submodule names are the
/// torchvision state_dict keys, so torchvision/timm weights load by name.
/// </summary>
/// <remarks>
/// Block counts are free: torchvision's ResNet-18 is [2,2,2,2], but the ImageNet ResNet-18 that ML.NET's
/// featurizer ships has [2,2,2,3] (counted in its ONNX graph's layer4 convolutions), and dropping its third layer4 block changes features
/// a lot. Stride sits on the 3×3 convolution of a bottleneck (torchvision's "v1.5").
/// Shape only: loading weights is the job of <c>Pretrained.PretrainedCatalog</c>.
/// </remarks>
public sealed class ResNet : ImageBackbone
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;

    /// <summary>Creates the network.</summary>
    /// <param name="bottleneck">true for Bottleneck blocks (ResNet-50 and up), false for BasicBlocks.</param>
    /// <param name="blocks">Blocks per stage, four numbers.</param>
    public ResNet(bool bottleneck, IReadOnlyList<int> blocks) : base(nameof(ResNet))
    {
        if (blocks.Count != 4) throw new ArgumentException("A ResNet has four stages.", nameof(blocks));
        Bottleneck = bottleneck;
        Blocks = blocks.ToArray();
        conv1 = Conv2d(3, 64, kernel_size: 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        maxpool = MaxPool2d(kernel_size: 3, stride: 2, padding: 1);
        int inChannels = 64;
        layer1 = Stage(ref inChannels, 64, blocks[0], stride: 1);
        layer2 = Stage(ref inChannels, 128, blocks[1], stride: 2);
        layer3 = Stage(ref inChannels, 256, blocks[2], stride: 2);
        layer4 = Stage(ref inChannels, 512, blocks[3], stride: 2);
        FeatureCount = inChannels;
        RegisterComponents();
    }

    /// <summary>true for Bottleneck blocks.</summary>
    public bool Bottleneck { get; }

    /// <summary>Blocks per stage.</summary>
    public IReadOnlyList<int> Blocks { get; }

    /// <summary>Length of the pooled feature vector (512 for BasicBlock nets, 2048 for Bottleneck nets).</summary>
    public override int FeatureCount { get; }

    /// <summary>The stem (conv1, bn1) is group 0 and <c>layerN.*</c> group N: five groups.</summary>
    public override int LayerCount => 5;

    /// <inheritdoc/>
    public override int LayerOf(string parameterName) =>
        parameterName.StartsWith("layer", StringComparison.Ordinal) && parameterName.Length > 5 && char.IsDigit(parameterName[5])
            ? Math.Min(4, parameterName[5] - '0') : 0;

    /// <inheritdoc/>
    public override string Shape => $"ResNet({(Bottleneck ? "bottleneck" : "basic")}, [{string.Join(",", Blocks)}])";

    internal override bool IsReferenceClassifierKey(string key) => key is "fc.weight" or "fc.bias";

    internal Conv2d Conv1 => conv1;
    internal BatchNorm2d Bn1 => bn1;
    internal IEnumerable<Sequential> Stages => [layer1, layer2, layer3, layer4];

    /// <summary>Images [N,3,H,W] (already normalised) → pooled features [N, <see cref="FeatureCount"/>].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = maxpool.forward(functional.relu(KeptBatchNorm.Forward(bn1, conv1.forward(x))));
        y = layer4.forward(layer3.forward(layer2.forward(layer1.forward(y))));
        return y.mean([2, 3]).MoveToOuterDisposeScope();
    }

    private Sequential Stage(ref int inChannels, int width, int count, long stride)
    {
        var blocks = new List<(string, Module<Tensor, Tensor>)>();
        for (int i = 0; i < count; i++)
        {
            Module<Tensor, Tensor> block = Bottleneck
                ? new BottleneckBlock(inChannels, width, i == 0 ? stride : 1)
                : new BasicBlock(inChannels, width, i == 0 ? stride : 1);
            inChannels = Bottleneck ? width * BottleneckBlock.Expansion : width;
            blocks.Add((i.ToString(), block));
        }
        return Sequential(blocks);
    }
}

/// <summary>Two 3×3 convolutions with an identity (or 1×1 projection) shortcut.</summary>
internal sealed class BasicBlock : Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly Sequential? downsample;

    internal BasicBlock(int inChannels, int width, long stride) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inChannels, width, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(width);
        conv2 = Conv2d(width, width, 3, padding: 1, bias: false);
        bn2 = BatchNorm2d(width);
        if (stride != 1 || inChannels != width)
            downsample = Sequential(Conv2d(inChannels, width, 1, stride: stride, bias: false), BatchNorm2d(width));
        RegisterComponents();
    }

    internal IEnumerable<(Conv2d Conv, BatchNorm2d Norm)> MainPath => [(conv1, bn1), (conv2, bn2)];
    internal Sequential? Downsample => downsample;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = KeptBatchNorm.Forward(bn2, conv2.forward(functional.relu(KeptBatchNorm.Forward(bn1, conv1.forward(x)))));
        var shortcut = downsample is null ? x : KeptBatchNorm.Projection(downsample, x);
        return functional.relu(y.add_(shortcut, KeptScalars.One)).MoveToOuterDisposeScope();
    }
}

/// <summary>1×1 reduce, 3×3 (strided), 1×1 expand ×4, with an identity (or projection) shortcut.</summary>
internal sealed class BottleneckBlock : Module<Tensor, Tensor>
{
    internal const int Expansion = 4;
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Sequential? downsample;

    internal BottleneckBlock(int inChannels, int width, long stride) : base(nameof(BottleneckBlock))
    {
        conv1 = Conv2d(inChannels, width, 1, bias: false);
        bn1 = BatchNorm2d(width);
        conv2 = Conv2d(width, width, 3, stride: stride, padding: 1, bias: false);
        bn2 = BatchNorm2d(width);
        conv3 = Conv2d(width, width * Expansion, 1, bias: false);
        bn3 = BatchNorm2d(width * Expansion);
        if (stride != 1 || inChannels != width * Expansion)
            downsample = Sequential(Conv2d(inChannels, width * Expansion, 1, stride: stride, bias: false), BatchNorm2d(width * Expansion));
        RegisterComponents();
    }

    internal IEnumerable<(Conv2d Conv, BatchNorm2d Norm)> MainPath => [(conv1, bn1), (conv2, bn2), (conv3, bn3)];
    internal Sequential? Downsample => downsample;

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = functional.relu(KeptBatchNorm.Forward(bn1, conv1.forward(x)));
        y = functional.relu(KeptBatchNorm.Forward(bn2, conv2.forward(y)));
        y = KeptBatchNorm.Forward(bn3, conv3.forward(y));
        var shortcut = downsample is null ? x : KeptBatchNorm.Projection(downsample, x);
        return functional.relu(y.add_(shortcut, KeptScalars.One)).MoveToOuterDisposeScope();
    }
}
