using MLNet.FineTuning.Modeling.Bert;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// A BERT encoder with the masked-language-model head on top (Hugging Face <c>BertForMaskedLM</c>, whose state-dict
/// keys are <c>bert.*</c> and <c>cls.predictions.*</c>; here <c>bert.*</c> and <c>head.*</c>). The forward pass takes
/// the labels too and scores only the positions that have one: about 15 % of the tokens, so the vocabulary-sized
/// decoder (the largest matrix product of a small BERT) costs a seventh of what scoring every position would.
/// </summary>
internal sealed class BertMaskedLanguageModel : Module<Tensor, Tensor, Tensor, Tensor, Tensor>
{
    /// <summary>The label of a position that is not scored (<c>cross_entropy</c>'s default ignore index, Hugging Face's convention).</summary>
    public const long Ignored = -100;

    // Kept for the process: a per-step operation's scalar must outlive the native call (docs/scalar-lifetime.md).
    private static readonly TorchSharp.Scalar IgnoredScalar = Ignored.ToScalar();

    private readonly BertEncoder bert;
    private readonly BertLmPredictionHead head;

    public BertMaskedLanguageModel(BertEncoder encoder, BertLmPredictionHead head) : base(nameof(BertMaskedLanguageModel))
    {
        bert = encoder;
        this.head = head;
        RegisterComponents();
    }

    /// <summary>The encoder (with LoRA layers while they are injected).</summary>
    public BertEncoder Encoder => bert;

    /// <summary>The prediction head.</summary>
    public BertLmPredictionHead Head => head;

    /// <summary>Token ids, attention mask, segment ids and labels [b, s] → logits [m, vocab] for the m positions whose
    /// label is not <see cref="Ignored"/>, in row-major order (the order of <c>labels.masked_select</c>, which <c>MaskedLanguageModelTask</c> scores them against).</summary>
    public override Tensor forward(Tensor input_ids, Tensor attention_mask, Tensor token_type_ids, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var hidden = bert.forward(input_ids, attention_mask, token_type_ids);
        var scored = labels.ne(IgnoredScalar).view(-1).nonzero().view(-1);
        var picked = hidden.view(-1, hidden.shape[2]).index_select(0, scored);
        return head.forward(picked, bert.WordEmbeddingWeight).MoveToOuterDisposeScope();
    }
}
