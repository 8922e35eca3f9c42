using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>tanh(dense(first token)): BERT's next-sentence-prediction pooler (Hugging Face <c>BertPooler</c>).</summary>
internal sealed class BertPooler : Module<Tensor, Tensor>, IReplaceableChildren
{
    private Module<Tensor, Tensor> dense;

    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <summary>Last hidden state [b,s,h] → pooled [b,h].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.forward(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }

    public Module<Tensor, Tensor> ReplaceChild(string name, Module<Tensor, Tensor> replacement)
    {
        if (name != nameof(dense)) throw new NotSupportedException($"BertPooler can replace only its projections, not '{name}'.");
        var old = dense;
        IReplaceableChildren.Reregister(this, name, replacement);
        dense = replacement;
        return old;
    }
}
