using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>
/// dense → dropout → LayerNorm(· + residual): both Hugging Face <c>BertSelfOutput</c> (<c>attention.output</c>,
/// hidden → hidden) and <c>BertOutput</c> (<c>output</c>, FFN → hidden), which differ only in the input width.
/// </summary>
internal sealed class BertResidualOutput : Module<Tensor, Tensor, Tensor>, IReplaceableChildren
{
    private Module<Tensor, Tensor> dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;

    public BertResidualOutput(int inFeatures, BertConfig config) : base(nameof(BertResidualOutput))
    {
        dense = Linear(inFeatures, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        RegisterComponents();
    }

    /// <summary>The sub-layer's output [b,s,in] and its input [b,s,h] (the residual) → [b,s,h].</summary>
    public override Tensor forward(Tensor x, Tensor residual)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.forward(dropout.forward(dense.forward(x)).add(residual, KeptScalars.One)).MoveToOuterDisposeScope();
    }

    public Module<Tensor, Tensor> ReplaceChild(string name, Module<Tensor, Tensor> replacement)
    {
        if (name != nameof(dense)) throw new NotSupportedException($"BertResidualOutput can replace only its projections, not '{name}'.");
        var old = dense;
        IReplaceableChildren.Reregister(this, name, replacement);
        dense = replacement;
        return old;
    }
}
