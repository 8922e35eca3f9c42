using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>The feed-forward expansion: dense (hidden → FFN) then the activation (Hugging Face <c>BertIntermediate</c>).</summary>
internal sealed class BertIntermediate : Module<Tensor, Tensor>, IReplaceableChildren
{
    private Module<Tensor, Tensor> dense;
    private readonly Func<Tensor, Tensor> activation;

    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        dense = Linear(config.HiddenSize, config.IntermediateSize);
        activation = Activation(config.HiddenAct);
        RegisterComponents();
    }

    /// <summary>BERT's <c>hidden_act</c> as a function; the masked-language-model head's transform uses the same one.</summary>
    internal static Func<Tensor, Tensor> Activation(string hiddenAct) => hiddenAct switch
    {
        "gelu" => x => functional.gelu(x),
        // Hugging Face's gelu_new is the same tanh approximation as PyTorch's approximate="tanh".
        "gelu_new" or "gelu_pytorch_tanh" => x => functional.gelu(x, TorchSharp.Modules.GELU.Approximate.tanh),
        "relu" => x => functional.relu(x),
        _ => throw new ArgumentException($"hidden_act '{hiddenAct}' is not supported.", nameof(hiddenAct)),
    };

    /// <inheritdoc/>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        return activation(dense.forward(x)).MoveToOuterDisposeScope();
    }

    public Module<Tensor, Tensor> ReplaceChild(string name, Module<Tensor, Tensor> replacement)
    {
        if (name != nameof(dense)) throw new NotSupportedException($"BertIntermediate can replace only its projections, not '{name}'.");
        var old = dense;
        IReplaceableChildren.Reregister(this, name, replacement);
        dense = replacement;
        return old;
    }
}
