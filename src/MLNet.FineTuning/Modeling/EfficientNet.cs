using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// EfficientNet B0–B7 feature extractor (Tan and Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
/// Neural Networks"), torchvision's layout without the classifier: <c>features.0</c> (3×3 stride-2 conv, BatchNorm,
/// SiLU), <c>features.1</c>–<c>features.7</c> (stages of MBConv blocks: 1×1 expansion, depthwise k×k, squeeze-and-excitation,
/// 1×1 projection, residual when the shape allows), <c>features.8</c> (1×1 conv to four times the last stage's width),
/// global average pooling. Submodule names are torchvision's state_dict keys, so its weights load by name.
/// </summary>
/// <remarks>
/// The family is one table of seven stages (B0's) scaled by a width and a depth multiplier: channels rounded to a
/// multiple of 8 (never more than 10 % below the product), block counts rounded up. Stochastic depth (drop a
/// residual branch per sample while training, rate growing linearly with the block's index up to 0.2) is torchvision's.
/// Verified against torchvision 0.14's <c>efficientnet_b*</c>: eng/parity/torchvision_fixtures.py.
/// </remarks>
public sealed class EfficientNet : ImageBackbone
{
    /// <summary>B0's stages: expansion ratio, kernel, stride, input channels, output channels, blocks.</summary>
    private static readonly (int Expand, int Kernel, int Stride, int In, int Out, int Blocks)[] B0Stages =
    [
        (1, 3, 1, 32, 16, 1),
        (6, 3, 2, 16, 24, 2),
        (6, 5, 2, 24, 40, 2),
        (6, 3, 2, 40, 80, 3),
        (6, 5, 1, 80, 112, 3),
        (6, 5, 2, 112, 192, 4),
        (6, 3, 1, 192, 320, 1),
    ];

    private const double MaxStochasticDepth = 0.2;

    private readonly Sequential features;

    /// <summary>Creates the network.</summary>
    /// <param name="widthMultiplier">Channel scale: 1.0 for B0 and B1, 1.1 B2, 1.2 B3, 1.4 B4, 1.6 B5, 1.8 B6, 2.0 B7.</param>
    /// <param name="depthMultiplier">Block-count scale: 1.0 B0, 1.1 B1, 1.2 B2, 1.4 B3, 1.8 B4, 2.2 B5, 2.6 B6, 3.1 B7.</param>
    /// <param name="batchNormEpsilon">BatchNorm ε: 1e-5 (torchvision's B0–B4), 1e-3 (B5–B7).</param>
    /// <param name="batchNormMomentum">BatchNorm momentum: 0.1 (B0–B4), 0.01 (B5–B7).</param>
    public EfficientNet(double widthMultiplier, double depthMultiplier, double batchNormEpsilon = 1e-5, double batchNormMomentum = 0.1)
        : base(nameof(EfficientNet))
    {
        if (!(widthMultiplier > 0) || !(depthMultiplier > 0))
            throw new ArgumentOutOfRangeException(nameof(widthMultiplier), "The width and depth multipliers must be positive.");
        WidthMultiplier = widthMultiplier;
        DepthMultiplier = depthMultiplier;
        BatchNormEpsilon = batchNormEpsilon;
        BatchNormMomentum = batchNormMomentum;

        var stages = B0Stages.Select(s => (s.Expand, s.Kernel, s.Stride, In: Channels(s.In), Out: Channels(s.Out),
                                            Blocks: (int)Math.Ceiling(s.Blocks * depthMultiplier))).ToArray();
        int totalBlocks = stages.Sum(s => s.Blocks), blockIndex = 0;
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("0", ConvNormActivation(3, stages[0].In, 3, 2, 1, activation: true)) };
        foreach (var s in stages)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (int i = 0; i < s.Blocks; i++)
                blocks.Add((i.ToString(), new MBConvBlock(i == 0 ? s.In : s.Out, s.Out, s.Expand, s.Kernel, i == 0 ? s.Stride : 1,
                    MaxStochasticDepth * blockIndex++ / totalBlocks, this)));
            layers.Add((layers.Count.ToString(), Sequential(blocks)));
        }
        FeatureCount = 4 * stages[^1].Out;
        layers.Add((layers.Count.ToString(), ConvNormActivation(stages[^1].Out, FeatureCount, 1, 1, 1, activation: true)));
        features = Sequential(layers);
        RegisterComponents();
        InitializeLikeTorchvision();
    }

    /// <summary>Channel scale.</summary>
    public double WidthMultiplier { get; }
    /// <summary>Block-count scale.</summary>
    public double DepthMultiplier { get; }
    /// <summary>BatchNorm ε.</summary>
    public double BatchNormEpsilon { get; }
    /// <summary>BatchNorm momentum.</summary>
    public double BatchNormMomentum { get; }

    /// <summary>Length of the pooled feature vector (1280 for B0).</summary>
    public override int FeatureCount { get; }

    /// <summary>The stem (<c>features.0</c>), each of the seven stages and the last 1×1 conv: nine groups.</summary>
    public override int LayerCount => B0Stages.Length + 2;

    /// <inheritdoc/>
    public override int LayerOf(string parameterName)
    {
        const string prefix = "features.";
        if (!parameterName.StartsWith(prefix, StringComparison.Ordinal)) return 0;
        int end = parameterName.IndexOf('.', prefix.Length);
        return int.TryParse(parameterName.AsSpan(prefix.Length, (end < 0 ? parameterName.Length : end) - prefix.Length), out int k)
            ? Math.Clamp(k, 0, LayerCount - 1) : 0;
    }

    /// <inheritdoc/>
    public override string Shape => $"EfficientNet(width {WidthMultiplier:G3}, depth {DepthMultiplier:G3})";

    internal override bool IsReferenceClassifierKey(string key) => key.StartsWith("classifier.", StringComparison.Ordinal);

    internal Sequential Features => features;

    /// <summary>Images [N,3,H,W] (already normalised) → pooled features [N, <see cref="FeatureCount"/>].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var layers = features.children().ToArray();
        var y = ConvNormActivationForward((Sequential)layers[0], x);
        for (int i = 1; i < layers.Length - 1; i++)
            foreach (var block in ((Sequential)layers[i]).children())
                y = ((MBConvBlock)block).forward(y);
        y = ConvNormActivationForward((Sequential)layers[^1], y);
        return y.mean([2, 3]).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's rounding: the nearest multiple of 8, at least 8, never more than 10 % below <paramref name="channels"/> × width.</summary>
    internal int Channels(double channels) => MakeDivisible(channels * WidthMultiplier);

    internal static int MakeDivisible(double value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    /// <summary>torchvision's Conv2dNormActivation: conv (no bias), BatchNorm, SiLU when <paramref name="activation"/>.
    /// Keys <c>0.weight</c>, <c>1.weight</c>, <c>1.running_mean</c>, …</summary>
    internal Sequential ConvNormActivation(long inChannels, long outChannels, long kernel, long stride, long groups, bool activation)
    {
        var conv = Conv2d(inChannels, outChannels, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false);
        var norm = BatchNorm2d(outChannels, eps: BatchNormEpsilon, momentum: BatchNormMomentum);
        return activation ? Sequential(("0", conv), ("1", norm), ("2", SiLU())) : Sequential(("0", conv), ("1", norm));
    }

    /// <summary>Runs a <see cref="ConvNormActivation"/> with the BatchNorm's scalars kept alive (<see cref="KeptBatchNorm"/>).</summary>
    internal static Tensor ConvNormActivationForward(Sequential layer, Tensor x)
    {
        var parts = layer.children().ToArray();
        var y = KeptBatchNorm.Forward((BatchNorm2d)parts[1], ((Conv2d)parts[0]).forward(x));
        return parts.Length > 2 ? functional.silu(y) : y;
    }

    /// <summary>torchvision's initialisation, for training from scratch: convolutions He-normal over fan-out, BatchNorm 1 and 0.</summary>
    private void InitializeLikeTorchvision()
    {
        using var noGrad = no_grad();
        foreach (var m in modules())
        {
            if (m is Conv2d conv)
            {
                init.kaiming_normal_(conv.weight!, mode: init.FanInOut.FanOut);
                if (conv.bias is not null) init.zeros_(conv.bias);
            }
        }
    }
}

/// <summary>
/// One MBConv block (Sandler et al. 2018's inverted residual with Hu et al. 2018's squeeze-and-excitation), torchvision's
/// keys: <c>block.0</c> 1×1 expansion (absent when the ratio is 1), then the depthwise k×k, the squeeze-and-excitation
/// (<c>fc1</c>, <c>fc2</c>) and the 1×1 projection without activation; the input is added back when stride and width allow.
/// </summary>
internal sealed class MBConvBlock : Module<Tensor, Tensor>
{
    private readonly Sequential block;

    internal MBConvBlock(int inChannels, int outChannels, int expandRatio, int kernel, int stride, double stochasticDepth, EfficientNet net)
        : base(nameof(MBConvBlock))
    {
        int expanded = EfficientNet.MakeDivisible(inChannels * (double)expandRatio);
        var layers = new List<Module<Tensor, Tensor>>();
        if (expanded != inChannels) layers.Add(net.ConvNormActivation(inChannels, expanded, 1, 1, 1, activation: true));
        layers.Add(net.ConvNormActivation(expanded, expanded, kernel, stride, groups: expanded, activation: true));
        layers.Add(new SqueezeExcitation(expanded, Math.Max(1, inChannels / 4)));
        layers.Add(net.ConvNormActivation(expanded, outChannels, 1, 1, 1, activation: false));
        block = Sequential(layers.Select((m, i) => (i.ToString(), m)));
        Residual = stride == 1 && inChannels == outChannels;
        StochasticDepth = stochasticDepth;
        RegisterComponents();
    }

    /// <summary>Whether the input is added back (stride 1 and the same width).</summary>
    internal bool Residual { get; }
    /// <summary>The probability of dropping the residual branch per sample while training.</summary>
    internal double StochasticDepth { get; }
    internal IEnumerable<Module<Tensor, Tensor>> Layers => block.children().Cast<Module<Tensor, Tensor>>();

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x;
        foreach (var layer in Layers)
            y = layer is SqueezeExcitation se ? se.forward(y) : EfficientNet.ConvNormActivationForward((Sequential)layer, y);
        if (!Residual) return y.MoveToOuterDisposeScope();
        if (training && StochasticDepth > 0)
        {
            // torchvision's StochasticDepth "row" mode: each sample keeps the branch with probability 1 − p, scaled by 1 / (1 − p).
            double survival = 1 - StochasticDepth;
            using var scale = KeptScalars.Of(survival);
            var keep = empty([y.shape[0], 1, 1, 1], y.dtype, y.device).bernoulli_(survival).div_(scale);
            y = y.mul(keep);
        }
        return y.add(x, KeptScalars.One).MoveToOuterDisposeScope();
    }
}

/// <summary>Squeeze-and-excitation (Hu et al. 2018): the pooled map through 1×1 convs <c>fc1</c> (SiLU) and <c>fc2</c>
/// (sigmoid) scales each channel.</summary>
internal sealed class SqueezeExcitation : Module<Tensor, Tensor>
{
    private readonly Conv2d fc1, fc2;

    internal SqueezeExcitation(int channels, int squeezed) : base(nameof(SqueezeExcitation))
    {
        fc1 = Conv2d(channels, squeezed, 1);
        fc2 = Conv2d(squeezed, channels, 1);
        RegisterComponents();
    }

    internal Conv2d Fc1 => fc1;
    internal Conv2d Fc2 => fc2;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var s = functional.sigmoid(fc2.forward(functional.silu(fc1.forward(x.mean([2, 3], keepdim: true)))));
        return x.mul(s).MoveToOuterDisposeScope();
    }
}
