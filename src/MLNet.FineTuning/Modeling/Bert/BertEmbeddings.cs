using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>Word + token type + absolute position embeddings, then LayerNorm and dropout (Hugging Face <c>BertEmbeddings</c>).</summary>
internal sealed class BertEmbeddings : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings, position_embeddings, token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly int positionOffset;

    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = Embedding(config.MaxPositionEmbeddings, config.HiddenSize);
        token_type_embeddings = Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        positionOffset = config.PositionOffset;
        RegisterComponents();
    }

    /// <summary>The word embedding table [vocab, hidden]: the masked-language-model decoder is tied to it.</summary>
    public Tensor WordEmbeddingWeight => word_embeddings.weight!;

    /// <summary>input_ids, token_type_ids int64 [b,s] → [b,s,hidden]; positions are offset..offset+s-1
    /// (<see cref="BertConfig.PositionOffset"/>: 0 for BERT).</summary>
    public override Tensor forward(Tensor input_ids, Tensor token_type_ids)
    {
        using var scope = NewDisposeScope();
        var positions = arange(positionOffset, positionOffset + input_ids.shape[1], dtype: int64, device: input_ids.device).unsqueeze(0);
        // Summation order of Hugging Face (and of the exported graphs): (word + type) + position.
        var x = word_embeddings.forward(input_ids).add_(token_type_embeddings.forward(token_type_ids), KeptScalars.One)
            .add_(position_embeddings.forward(positions), KeptScalars.One);
        return dropout.forward(LayerNorm.forward(x)).MoveToOuterDisposeScope();
    }
}
