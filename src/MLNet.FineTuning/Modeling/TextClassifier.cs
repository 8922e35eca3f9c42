using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// A BERT-family encoder, pooling over its last hidden state, and a new classification head.
/// State-dict keys are <c>encoder.*</c> (Hugging Face BertModel names) and <c>head.*</c>.
/// </summary>
public sealed class TextClassifier : Module<Tensor, Tensor, Tensor, Tensor>
{
    private BertEncoder encoder;
    private readonly ClassifierHead head;

    /// <summary>Joins an encoder, a pooling rule and a head.</summary>
    public TextClassifier(BertEncoder encoder, TextPooling pooling, ClassifierHead head) : base(nameof(TextClassifier))
    {
        this.encoder = encoder;
        this.head = head;
        Pooling = pooling;
        RegisterComponents();
    }

    /// <summary>The encoder (with LoRA layers while they are injected).</summary>
    public BertEncoder Encoder => encoder;

    /// <summary>The classification head.</summary>
    public ClassifierHead Head => head;

    /// <summary>How token vectors become one vector per text.</summary>
    public TextPooling Pooling { get; }

    /// <summary>Token ids, attention mask, segment ids [b,s] → logits [b,K].</summary>
    public override Tensor forward(Tensor input_ids, Tensor attention_mask, Tensor token_type_ids)
    {
        using var scope = NewDisposeScope();
        var hidden = encoder.forward(input_ids, attention_mask, token_type_ids);
        return head.forward(TextPoolingMath.Pool(hidden, attention_mask, Pooling)).MoveToOuterDisposeScope();
    }
}
