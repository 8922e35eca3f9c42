using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>Self-attention followed by its projection and residual LayerNorm (Hugging Face <c>BertAttention</c>: <c>self</c>, <c>output</c>).</summary>
internal sealed class BertAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;

    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertResidualOutput(config.HiddenSize, config);
        RegisterComponents();
    }

    /// <summary>hidden [b,s,h], additive mask [b,1,1,s] → hidden [b,s,h].</summary>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        return output.forward(self.forward(hidden, additiveMask), hidden).MoveToOuterDisposeScope();
    }
}
