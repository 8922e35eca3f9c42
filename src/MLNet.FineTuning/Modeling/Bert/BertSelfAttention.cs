using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>Multi-head scaled dot-product self-attention with an additive padding mask (Hugging Face <c>BertSelfAttention</c>).</summary>
internal sealed class BertSelfAttention : Module<Tensor, Tensor, Tensor>, IReplaceableChildren
{
    // Module<Tensor, Tensor> rather than Linear: LoRA puts a wrapper around the Linear in the same slot.
    private Module<Tensor, Tensor> query, key, value;
    private readonly int heads, headSize;
    private readonly double dropoutProbability;

    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = Linear(config.HiddenSize, config.HiddenSize);
        key = Linear(config.HiddenSize, config.HiddenSize);
        value = Linear(config.HiddenSize, config.HiddenSize);
        heads = config.NumAttentionHeads;
        headSize = config.HiddenSize / config.NumAttentionHeads;
        dropoutProbability = config.AttentionProbsDropoutProb;
        RegisterComponents();
    }

    /// <summary>hidden [b,s,h] and the additive mask [b,1,1,s] (0 to attend, the dtype's lowest value to skip) → context [b,s,h].</summary>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], s = hidden.shape[1];
        Tensor Heads(Tensor t) => t.view(b, s, heads, headSize).transpose(1, 2);
        // The fused kernel computes softmax(q·kᵀ/√d + mask)·v, Hugging Face's "sdpa" path; dropout on the
        // attention weights happens inside it, so it must be told whether this is training.
        var context = functional.scaled_dot_product_attention(
            Heads(query.forward(hidden)), Heads(key.forward(hidden)), Heads(value.forward(hidden)),
            additiveMask, training ? dropoutProbability : 0.0, false);
        return context.transpose(1, 2).reshape(b, s, heads * headSize).MoveToOuterDisposeScope();
    }

    public Module<Tensor, Tensor> ReplaceChild(string name, Module<Tensor, Tensor> replacement)
    {
        var old = name switch
        {
            nameof(query) => query,
            nameof(key) => key,
            nameof(value) => value,
            _ => throw new NotSupportedException($"BertSelfAttention can replace only its projections, not '{name}'."),
        };
        IReplaceableChildren.Reregister(this, name, replacement);
        switch (name)
        {
            case nameof(query): query = replacement; break;
            case nameof(key): key = replacement; break;
            default: value = replacement; break;
        }
        return old;
    }
}
