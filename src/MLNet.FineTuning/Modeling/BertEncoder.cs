using MLNet.FineTuning.Modeling.Bert;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// BERT encoder (Devlin et al. 2018, "BERT: Pre-training of Deep Bidirectional Transformers"), Hugging Face
/// <c>BertModel</c> layout: <c>embeddings</c>, <c>encoder.layer.N</c>, optionally <c>pooler</c>. Its
/// <c>named_parameters()</c> keys are Hugging Face's without the <c>bert.</c> prefix
/// (<c>encoder.layer.0.attention.self.query.weight</c>, …), so checkpoints load by name.
/// </summary>
/// <remarks>
/// Post-LayerNorm layers, absolute positions, padding handled by an additive attention mask.
/// Every projection is a plain TorchSharp <c>Linear</c> that LoRA can wrap in place by its name.
/// Shape only: loading weights is the job of <c>Pretrained.PretrainedCatalog</c> / <c>Pretrained.BertCheckpoint</c>.
/// </remarks>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertEmbeddings embeddings;
    private readonly BertLayerStack encoder;
    private readonly BertPooler? pooler;

    /// <summary>Creates the network with random initialisation.</summary>
    /// <param name="config">The shape; validated.</param>
    /// <param name="addPoolingLayer">Whether to add the <c>pooler</c> (tanh(dense(first token))); Hugging Face's
    /// <c>add_pooling_layer</c>. Default false: sentence encoders pool the hidden states themselves.</param>
    /// <exception cref="ArgumentException">The config is invalid; the message names each field.</exception>
    public BertEncoder(BertConfig config, bool addPoolingLayer = false) : base(nameof(BertEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        embeddings = new BertEmbeddings(config);
        encoder = new BertLayerStack(config);
        if (addPoolingLayer) pooler = new BertPooler(config);
        RegisterComponents();
    }

    /// <summary>The shape this network was built with.</summary>
    public BertConfig Config { get; }

    /// <summary>Whether the network has the <c>pooler</c> (see <see cref="Pool"/>).</summary>
    public bool HasPooler => pooler is not null;

    /// <summary>Token ids → last hidden state.</summary>
    /// <param name="input_ids">int64 [batch, sequence], each in [0, vocab_size); sequence ≤ max_position_embeddings.</param>
    /// <param name="attention_mask">[batch, sequence]: 1 for tokens, 0 for padding (any numeric or bool type).</param>
    /// <param name="token_type_ids">int64 [batch, sequence]: segment ids, each in [0, type_vocab_size); zeros for one sentence.</param>
    /// <returns>Last hidden state [batch, sequence, hidden]. Rows at padded positions are computed but meaningless.</returns>
    /// <exception cref="ArgumentException">Shapes that differ or are not 2-D, or a sequence longer than max_position_embeddings.</exception>
    public override Tensor forward(Tensor input_ids, Tensor attention_mask, Tensor token_type_ids)
    {
        CheckInputs(input_ids, attention_mask, token_type_ids);
        using var scope = NewDisposeScope();
        var hidden = embeddings.forward(input_ids, token_type_ids);
        return encoder.forward(hidden, AdditiveMask(attention_mask, hidden.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>BERT's pooled output: tanh(dense(last hidden state of the first token)), [batch, hidden].</summary>
    /// <exception cref="InvalidOperationException">The network was built without a pooler.</exception>
    public Tensor Pool(Tensor lastHiddenState) =>
        pooler?.forward(lastHiddenState)
        ?? throw new InvalidOperationException("This BertEncoder has no pooler; create it with addPoolingLayer: true.");

    /// <summary>
    /// The additive attention mask [b,1,1,s]: 0 where <paramref name="attentionMask"/> is 1, the lowest finite
    /// value of <paramref name="dtype"/> where it is 0.
    /// </summary>
    /// <remarks>
    /// Why the dtype's minimum rather than the original BERT's -10000 (which the MiniLM ONNX export still uses):
    /// -10000 hides padding only while every score stays far below 10^4 in magnitude, an assumption about
    /// the weights; the dtype's minimum makes the padded weights underflow to exactly 0 whatever the
    /// scores, in fp32, fp16 and bf16 alike (current Hugging Face does the same). It stays finite, not
    /// -inf, so that a row with no tokens at all softmaxes to uniform weights instead of NaN. For the
    /// scores of real models both give exactly 0 after softmax in fp32, which is why this matches the
    /// -10000 graph to ~1e-6.
    /// </remarks>
    internal static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var keep = attentionMask.to(dtype);
        using var lowest = KeptScalars.Of(finfo(dtype).min);
        return keep.neg().add_(KeptScalars.One, KeptScalars.One).mul_(lowest)
            .view(attentionMask.shape[0], 1, 1, attentionMask.shape[1]).MoveToOuterDisposeScope();
    }

    /// <summary>The word embedding table [vocab, hidden] (read on each access: moving the module replaces it); BERT's
    /// masked-language-model decoder is tied to it.</summary>
    internal Tensor WordEmbeddingWeight => embeddings.WordEmbeddingWeight;

    /// <summary>Layer groups for layer-wise rates and gradual unfreezing: the embeddings (0), each transformer layer
    /// (<c>encoder.layer.N.*</c> is N + 1) and the pooler on top.</summary>
    internal int LayerGroupCount => Config.NumHiddenLayers + 2;

    /// <summary>The layer group of one of this encoder's parameters, by its name here (<c>encoder.layer.3.….weight</c>).</summary>
    internal int LayerGroupOf(string parameterName)
    {
        const string layer = "encoder.layer.";
        if (parameterName.StartsWith(layer, StringComparison.Ordinal))
            return int.Parse(parameterName.AsSpan(layer.Length, parameterName.IndexOf('.', layer.Length) - layer.Length)) + 1;
        return parameterName.StartsWith("pooler.", StringComparison.Ordinal) ? LayerGroupCount - 1 : 0;
    }

    /// <summary>Every <c>Linear</c> with its qualified name (<c>encoder.layer.0.attention.self.query</c>, …), in registration order.</summary>
    internal IEnumerable<(string Name, Linear Linear)> NamedLinears() =>
        named_modules().Where(m => m.module is Linear).Select(m => (m.name, (Linear)m.module));

    /// <summary>
    /// Puts <paramref name="replacement"/> in place of the projection <paramref name="qualifiedName"/> (e.g.
    /// <c>encoder.layer.0.attention.self.query</c>): <c>forward</c> then calls it and <c>named_parameters()</c>
    /// lists its parameters under that name. Returns the module it replaced, which the caller now owns
    /// (typically as the replacement's <c>base_layer</c>).
    /// </summary>
    /// <exception cref="ArgumentException">No module of that name.</exception>
    /// <exception cref="NotSupportedException">The name is not a projection (query, key, value, dense).</exception>
    internal Module<Tensor, Tensor> ReplaceModule(string qualifiedName, Module<Tensor, Tensor> replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        int dot = qualifiedName.LastIndexOf('.');
        string parentName = dot < 0 ? "" : qualifiedName[..dot], childName = qualifiedName[(dot + 1)..];
        var modules = named_modules().ToDictionary(m => m.name, m => m.module);
        if (!modules.ContainsKey(qualifiedName))
            throw new ArgumentException($"BertEncoder has no module named '{qualifiedName}'.", nameof(qualifiedName));
        string notSupported = $"'{qualifiedName}' cannot be replaced: only the projections query, key, value and dense can.";
        if (!modules.TryGetValue(parentName, out var parent) || parent is not IReplaceableChildren holder)
            throw new NotSupportedException(notSupported);
        try
        {
            return holder.ReplaceChild(childName, replacement);
        }
        catch (NotSupportedException e)
        {
            throw new NotSupportedException(notSupported, e);
        }
    }

    private void CheckInputs(Tensor input_ids, Tensor attention_mask, Tensor token_type_ids)
    {
        if (input_ids.dim() != 2)
            throw new ArgumentException($"input_ids must be [batch, sequence]; got [{string.Join(",", input_ids.shape)}].", nameof(input_ids));
        foreach (var (name, t) in new[] { (nameof(attention_mask), attention_mask), (nameof(token_type_ids), token_type_ids) })
            if (!t.shape.SequenceEqual(input_ids.shape))
                throw new ArgumentException(
                    $"{name} [{string.Join(",", t.shape)}] must have the shape of input_ids [{string.Join(",", input_ids.shape)}].", name);
        if (input_ids.shape[1] > Config.MaxSequenceLength)
            throw new ArgumentException(
                $"Sequences of {input_ids.shape[1]} tokens are longer than the encoder's {Config.MaxSequenceLength} positions (max_position_embeddings {Config.MaxPositionEmbeddings}).",
                nameof(input_ids));
    }
}
