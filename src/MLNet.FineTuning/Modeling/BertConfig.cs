using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// The shape of a <see cref="BertEncoder"/>: the fields of a Hugging Face BERT or RoBERTa <c>config.json</c> that
/// decide the network. Property docs give the JSON name; defaults are Hugging Face's <c>BertConfig</c> defaults
/// (BERT-base), which also apply to fields a <c>config.json</c> leaves out.
/// </summary>
/// <remarks>
/// RoBERTa is BERT's network with two differences that reach the weights' use: its position ids start after the
/// padding id (<see cref="PositionOffset"/>), and its checkpoints name the encoder <c>roberta.*</c>. Everything else a
/// RoBERTa config changes (one token type, LayerNorm epsilon 1e-5, 514 positions) is a value of the fields below.
/// </remarks>
public sealed record BertConfig
{
    /// <summary>Activations this encoder implements: <c>gelu</c> (exact, erf), <c>gelu_new</c> and <c>gelu_pytorch_tanh</c> (both the tanh approximation), <c>relu</c>.</summary>
    public static IReadOnlyList<string> SupportedActivations { get; } = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu"];

    /// <summary>
    /// MiniLM-L6 (all-MiniLM-L6-v2 shape): 6 layers, hidden 384, 12 heads, FFN 1536, erf-GELU, eps 1e-12,
    /// 512 positions, BERT-uncased vocabulary (checked against the ONNX graph's constants).
    /// </summary>
    public static BertConfig MiniLmL6 { get; } = new()
    {
        HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = 1536,
    };

    /// <summary>The <c>model_type</c> values this encoder implements.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = [Bert, Roberta];

    /// <summary><c>model_type</c> of BERT checkpoints.</summary>
    public const string Bert = "bert";

    /// <summary><c>model_type</c> of RoBERTa checkpoints (roberta-base, distilroberta-base, CodeBERT, …).</summary>
    public const string Roberta = "roberta";

    /// <summary><c>model_type</c>: <see cref="Bert"/> (default) or <see cref="Roberta"/>.</summary>
    public string ModelType { get; init; } = Bert;

    /// <summary>
    /// Index of the first position embedding a sequence uses: 0 for BERT; <c>pad_token_id + 1</c> for RoBERTa, whose
    /// position ids count from there (Hugging Face's <c>create_position_ids_from_input_ids</c>). That function gives
    /// padded tokens the padding id as position instead; only padded rows, which attention and pooling mask out,
    /// see the difference.
    /// </summary>
    public int PositionOffset => ModelType == Roberta ? PadTokenId + 1 : 0;

    /// <summary>The longest sequence the position embedding covers: <see cref="MaxPositionEmbeddings"/> −
    /// <see cref="PositionOffset"/> (512 for BERT-base and RoBERTa-base).</summary>
    public int MaxSequenceLength => MaxPositionEmbeddings - PositionOffset;

    /// <summary>The prefix a task model's checkpoint puts before the encoder's keys: <c>bert.</c> or <c>roberta.</c>.</summary>
    public string CheckpointPrefix => ModelType + ".";

    /// <summary><c>vocab_size</c>: rows of the word embedding, ≥ 1. Default 30522 (BERT uncased).</summary>
    public int VocabSize { get; init; } = 30522;

    /// <summary><c>hidden_size</c>: width of every token vector, ≥ 1, a multiple of <see cref="NumAttentionHeads"/>. Default 768.</summary>
    public int HiddenSize { get; init; } = 768;

    /// <summary><c>num_hidden_layers</c>: transformer layers, ≥ 1. Default 12.</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary><c>num_attention_heads</c>: heads per layer, ≥ 1, dividing <see cref="HiddenSize"/>. Default 12.</summary>
    public int NumAttentionHeads { get; init; } = 12;

    /// <summary><c>intermediate_size</c>: width of the feed-forward layer, ≥ 1. Default 3072.</summary>
    public int IntermediateSize { get; init; } = 3072;

    /// <summary><c>hidden_act</c>: feed-forward activation, one of <see cref="SupportedActivations"/>. Default <c>gelu</c> (erf).</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary><c>hidden_dropout_prob</c>: dropout after embeddings and each sub-layer while training, in [0, 1). Default 0.1.</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary><c>attention_probs_dropout_prob</c>: dropout on attention weights while training, in [0, 1). Default 0.1.</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary><c>max_position_embeddings</c>: longest sequence (rows of the position embedding), ≥ 1. Default 512.</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;

    /// <summary><c>type_vocab_size</c>: segment (token type) ids, ≥ 1. Default 2.</summary>
    public int TypeVocabSize { get; init; } = 2;

    /// <summary><c>layer_norm_eps</c>: LayerNorm epsilon, &gt; 0. Default 1e-12.</summary>
    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary><c>pad_token_id</c>: the padding token, whose word embedding gets no gradient, in [0, <see cref="VocabSize"/>). Default 0.</summary>
    public int PadTokenId { get; init; }

    /// <summary>Every problem with the values, each naming its <c>config.json</c> field; empty when the config is usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void AtLeastOne(string field, int value)
        {
            if (value < 1) problems.Add($"{field} must be at least 1; got {value}.");
        }
        AtLeastOne("vocab_size", VocabSize);
        AtLeastOne("hidden_size", HiddenSize);
        AtLeastOne("num_hidden_layers", NumHiddenLayers);
        AtLeastOne("num_attention_heads", NumAttentionHeads);
        AtLeastOne("intermediate_size", IntermediateSize);
        AtLeastOne("max_position_embeddings", MaxPositionEmbeddings);
        AtLeastOne("type_vocab_size", TypeVocabSize);
        if (HiddenSize >= 1 && NumAttentionHeads >= 1 && HiddenSize % NumAttentionHeads != 0)
            problems.Add($"hidden_size ({HiddenSize}) must be a multiple of num_attention_heads ({NumAttentionHeads}).");
        if (!SupportedActivations.Contains(HiddenAct))
            problems.Add($"hidden_act '{HiddenAct}' is not supported; use one of {string.Join(", ", SupportedActivations)}.");
        if (!(HiddenDropoutProb >= 0 && HiddenDropoutProb < 1))
            problems.Add($"hidden_dropout_prob must be in [0, 1); got {HiddenDropoutProb}.");
        if (!(AttentionProbsDropoutProb >= 0 && AttentionProbsDropoutProb < 1))
            problems.Add($"attention_probs_dropout_prob must be in [0, 1); got {AttentionProbsDropoutProb}.");
        if (!(LayerNormEps > 0)) problems.Add($"layer_norm_eps must be greater than 0; got {LayerNormEps}.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize)
            problems.Add($"pad_token_id ({PadTokenId}) must be in [0, vocab_size {VocabSize}).");
        if (!SupportedModelTypes.Contains(ModelType))
            problems.Add($"model_type '{ModelType}' is not supported; use one of {string.Join(", ", SupportedModelTypes)}.");
        else if (MaxSequenceLength < 2)
            problems.Add($"max_position_embeddings ({MaxPositionEmbeddings}) leaves {MaxSequenceLength} positions after the {PositionOffset} that {ModelType} skips; at least 2 are needed.");
        return problems;
    }

    /// <summary>The encoder's parameter count for these sizes (a double: a hostile config's sizes overflow a long),
    /// without the optional pooler; what its weight file must hold at the least.</summary>
    public double ParameterCount()
    {
        double h = HiddenSize, ffn = IntermediateSize;
        double embeddings = ((double)VocabSize + MaxPositionEmbeddings + TypeVocabSize) * h + 2 * h;
        double layer = 4 * (h * h + h) + 2 * h + (h * ffn + ffn) + (ffn * h + h) + 2 * h;
        return embeddings + NumHiddenLayers * layer;
    }

    /// <summary>Throws if <see cref="Problems"/> finds any.</summary>
    /// <exception cref="ArgumentException">The message lists every problem by field name.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0)
            throw new ArgumentException("Invalid BertConfig: " + string.Join(" ", problems));
    }

    /// <summary>Reads a Hugging Face <c>config.json</c> and validates it.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not JSON, a field of the wrong type, a model type other than BERT or RoBERTa, or invalid values (each named).</exception>
    public static BertConfig FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The model configuration '{path}' was not found.", path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a Hugging Face <c>config.json</c> and validates it.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="origin">Names the file in messages.</param>
    /// <exception cref="InvalidDataException">Not JSON, a field of the wrong type, a model type other than BERT or RoBERTa, or invalid values (each named).</exception>
    public static BertConfig FromJson(string json, string origin = "config.json")
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"'{origin}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{origin}' is not valid JSON: {e.Message}", e);
        }
        var problems = new List<string>();
        // Other model types (XLM-RoBERTa's SentencePiece vocabulary, ALBERT's factorised embeddings, DistilBERT's
        // names) would load into this shape wrongly or not at all: refuse them by name rather than half-load them.
        string modelType = Read(root, "model_type", Bert, problems);
        if (!SupportedModelTypes.Contains(modelType))
            problems.Add($"model_type '{modelType}' is not supported; only {string.Join(" and ", SupportedModelTypes)} checkpoints are.");
        string positions = Read(root, "position_embedding_type", "absolute", problems);
        if (positions != "absolute")
            problems.Add($"position_embedding_type '{positions}' is not supported; only 'absolute' is.");
        var defaults = new BertConfig();
        var config = new BertConfig
        {
            ModelType = SupportedModelTypes.Contains(modelType) ? modelType : Bert,
            VocabSize = Read(root, "vocab_size", defaults.VocabSize, problems),
            HiddenSize = Read(root, "hidden_size", defaults.HiddenSize, problems),
            NumHiddenLayers = Read(root, "num_hidden_layers", defaults.NumHiddenLayers, problems),
            NumAttentionHeads = Read(root, "num_attention_heads", defaults.NumAttentionHeads, problems),
            IntermediateSize = Read(root, "intermediate_size", defaults.IntermediateSize, problems),
            HiddenAct = Read(root, "hidden_act", defaults.HiddenAct, problems),
            HiddenDropoutProb = Read(root, "hidden_dropout_prob", defaults.HiddenDropoutProb, problems),
            AttentionProbsDropoutProb = Read(root, "attention_probs_dropout_prob", defaults.AttentionProbsDropoutProb, problems),
            MaxPositionEmbeddings = Read(root, "max_position_embeddings", defaults.MaxPositionEmbeddings, problems),
            TypeVocabSize = Read(root, "type_vocab_size", defaults.TypeVocabSize, problems),
            LayerNormEps = Read(root, "layer_norm_eps", defaults.LayerNormEps, problems),
            PadTokenId = Read(root, "pad_token_id", defaults.PadTokenId, problems),
        };
        problems.AddRange(config.Problems());
        if (problems.Count > 0)
            throw new InvalidDataException($"'{origin}' does not describe a usable BERT or RoBERTa encoder: {string.Join(" ", problems)}");
        return config;
    }

    /// <summary>The fields above as a Hugging Face <c>config.json</c>, so that a fine-tuned encoder can be saved beside its weights.</summary>
    public string ToJson()
    {
        var root = new JsonObject
        {
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["pad_token_id"] = PadTokenId,
            ["position_embedding_type"] = "absolute",
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static T Read<T>(JsonObject root, string field, T fallback, List<string> problems)
    {
        if (!root.TryGetPropertyValue(field, out var node) || node is null) return fallback;
        try
        {
            // JSON numbers such as 1e-12 or 512.0 are fine as long as they fit the field's type exactly.
            if (typeof(T) == typeof(int) && node.GetValueKind() == JsonValueKind.Number)
            {
                double d = node.GetValue<double>();
                if (d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (T)(object)(int)d;
            }
            else if (typeof(T) == typeof(double) && node.GetValueKind() == JsonValueKind.Number)
                return (T)(object)node.GetValue<double>();
            else if (typeof(T) == typeof(string) && node.GetValueKind() == JsonValueKind.String)
                return (T)(object)node.GetValue<string>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException) { /* reported below */ }
        string expected = typeof(T) == typeof(int) ? "an integer" : typeof(T) == typeof(double) ? "a number" : "a string";
        problems.Add($"{field} must be {expected}; got {node.ToJsonString()}.");
        return fallback;
    }

    /// <inheritdoc/>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(ModelType == Roberta ? "RoBERTa" : "BERT")}(layers {NumHiddenLayers}, hidden {HiddenSize}, heads {NumAttentionHeads}, FFN {IntermediateSize}, {HiddenAct}, vocab {VocabSize}, positions {MaxPositionEmbeddings})");
}
