using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>
/// BERT's masked-language-model head (Hugging Face <c>BertLMPredictionHead</c>): <c>transform</c> (dense, the encoder's
/// activation, LayerNorm), then a decoder whose weight is the word embedding table (tied, as in BERT: no second
/// vocab × hidden matrix to train or save) plus its own <c>bias</c> [vocab]. Saved under Hugging Face's names by
/// prefixing <c>cls.predictions.</c> (<see cref="HuggingFacePrefix"/>).
/// </summary>
internal sealed class BertLmPredictionHead : Module<Tensor, Tensor, Tensor>
{
    /// <summary>What <c>BertForMaskedLM</c> puts before this head's parameter names.</summary>
    public const string HuggingFacePrefix = "cls.predictions.";

    private readonly BertPredictionTransform transform;
    private readonly Parameter bias;

    /// <summary>A head with Hugging Face's initialisation (dense weight N(0, 0.02), biases 0, LayerNorm 1 and 0), drawn
    /// from TorchSharp's generator: seed it first.</summary>
    public BertLmPredictionHead(BertConfig config) : base(nameof(BertLmPredictionHead))
    {
        transform = new BertPredictionTransform(config);
        bias = Parameter(zeros(config.VocabSize));
        RegisterComponents();
    }

    /// <summary>Hidden states [m, hidden] and the word embedding table [vocab, hidden] → logits [m, vocab].</summary>
    public override Tensor forward(Tensor hidden, Tensor wordEmbeddings)
    {
        using var scope = NewDisposeScope();
        return functional.linear(transform.forward(hidden), wordEmbeddings, bias).MoveToOuterDisposeScope();
    }

    /// <summary>Dense, activation, LayerNorm (Hugging Face <c>BertPredictionHeadTransform</c>).</summary>
    private sealed class BertPredictionTransform : Module<Tensor, Tensor>
    {
        private readonly Linear dense;
        private readonly LayerNorm LayerNorm;
        private readonly Func<Tensor, Tensor> activation;

        public BertPredictionTransform(BertConfig config) : base(nameof(BertPredictionTransform))
        {
            dense = Linear(config.HiddenSize, config.HiddenSize);
            LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
            activation = BertIntermediate.Activation(config.HiddenAct);
            using (no_grad())
            {
                init.normal_(dense.weight!, 0, 0.02);
                init.zeros_(dense.bias!);
            }
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return LayerNorm.forward(activation(dense.forward(x))).MoveToOuterDisposeScope();
        }
    }
}
