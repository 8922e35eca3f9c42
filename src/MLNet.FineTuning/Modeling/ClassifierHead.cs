using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>A new classification head: dropout, then one linear layer to K class logits.</summary>
public sealed class ClassifierHead : Module<Tensor, Tensor>
{
    private readonly Dropout dropout;
    private readonly Linear fc;

    /// <param name="features">Input feature length.</param>
    /// <param name="classes">Number of classes K (≥ 2).</param>
    /// <param name="dropoutRate">Dropout probability in [0, 1).</param>
    public ClassifierHead(int features, int classes, double dropoutRate) : base(nameof(ClassifierHead))
    {
        dropout = Dropout(dropoutRate);
        fc = Linear(features, classes);
        RegisterComponents();
    }

    internal Linear Fc => fc;

    /// <summary>Zero weights and bias: every input starts at output 0 (a regression's standardised training mean).</summary>
    internal void StartAtZero()
    {
        using var noGrad = no_grad();
        fc.weight!.zero_();
        fc.bias!.zero_();
    }

    /// <summary>Zero weights and each output's bias at the log-odds of its share of positive training rows: every input
    /// starts at the training rows' label frequencies (a multi-label classifier's best constant answer) instead of at
    /// random multiples of the features. Shares are clipped to [1e-4, 1 − 1e-4].</summary>
    internal void StartAtPriors(IReadOnlyList<double> positiveShares)
    {
        using var noGrad = no_grad();
        fc.weight!.zero_();
        var logOdds = positiveShares.Select(p => Math.Clamp(p, 1e-4, 1 - 1e-4)).Select(p => (float)Math.Log(p / (1 - p))).ToArray();
        using var bias = tensor(logOdds);
        fc.bias!.copy_(bias);
    }

    /// <summary>Features [N,F] → logits [N,K].</summary>
    public override Tensor forward(Tensor x)
    {
        // Kept in a local: tests and library users call the head outside any dispose scope, and a temporary handed to
        // native code can be finalized mid-call (docs/scalar-lifetime.md).
        using var dropped = dropout.forward(x);
        return fc.forward(dropped);
    }
}

/// <summary>
/// A backbone that maps a normalised input to pooled features, followed by a <see cref="ClassifierHead"/>.
/// State-dict keys are <c>backbone.*</c> and <c>head.*</c>.
/// </summary>
public sealed class Classifier : Module<Tensor, Tensor>
{
    private readonly ImageBackbone backbone;
    private readonly ClassifierHead head;

    /// <summary>Joins a backbone and a head.</summary>
    public Classifier(ImageBackbone backbone, ClassifierHead head) : base(nameof(Classifier))
    {
        this.backbone = backbone;
        this.head = head;
        RegisterComponents();
    }

    /// <summary>The feature extractor.</summary>
    public ImageBackbone Backbone => backbone;

    /// <summary>The classification head.</summary>
    public ClassifierHead Head => head;

    /// <summary>Input → logits [N,K].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return head.forward(backbone.forward(x)).MoveToOuterDisposeScope();
    }
}
