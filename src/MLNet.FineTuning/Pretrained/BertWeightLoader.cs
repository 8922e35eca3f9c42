using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Bert;
using Onnx;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>Loads pretrained weights into a <see cref="BertEncoder"/>: the one weight loader for text encoders.</summary>
/// <remarks>
/// Keys are the encoder's (Hugging Face <c>BertModel</c>'s and <c>RobertaModel</c>'s, which name the same modules); a
/// source may add <c>bert.</c> (<c>roberta.</c>) in front, as the checkpoints of <c>BertForPreTraining</c>,
/// <c>BertForMaskedLM</c>, <c>RobertaForMaskedLM</c>, … do. Dropped without complaint: the task heads of those
/// checkpoints (<c>cls.*</c>; RoBERTa's <c>lm_head.*</c> and <c>classifier.*</c>), <c>pooler.*</c> when the encoder
/// has no pooler, and <c>embeddings.position_ids</c> (a constant buffer older transformers versions saved). Anything
/// else that does not fit is an error listing every key, and then nothing is loaded.
/// </remarks>
internal static class BertWeightLoader
{
    /// <summary>The prefix Hugging Face's BERT task models put before the <c>BertModel</c> keys.</summary>
    public const string Prefix = "bert.";

    /// <summary><paramref name="key"/> without a leading <paramref name="prefix"/>.</summary>
    public static string WithoutPrefix(string key, string prefix = Prefix) =>
        key.StartsWith(prefix, StringComparison.Ordinal) ? key[prefix.Length..] : key;

    /// <summary>Whether a source key (without prefix) is dropped rather than reported as unexpected: a pre-training head
    /// of BERT's (<c>cls.</c>) or RoBERTa's (<c>lm_head.</c>, <c>classifier.</c>: RoBERTa checkpoints are often published
    /// with them) checkpoints, an unused pooler, a buffer.</summary>
    public static bool IsIgnored(string key, bool hasPooler, string modelType = BertConfig.Bert) =>
        key.StartsWith("cls.", StringComparison.Ordinal)
        || (modelType == BertConfig.Roberta
            && (key.StartsWith("lm_head.", StringComparison.Ordinal) || key.StartsWith("classifier.", StringComparison.Ordinal)))
        || (!hasPooler && key.StartsWith("pooler.", StringComparison.Ordinal))
        || key == "embeddings.position_ids";

    /// <summary>Maps a Hugging Face BERT ONNX export onto <paramref name="model"/> (see <see cref="BertOnnxMap"/>).</summary>
    /// <exception cref="InvalidDataException">Not a readable ONNX model, or its weights do not fit the network (all listed).</exception>
    public static void LoadOnnx(BertEncoder model, Stream onnxStream, string origin)
    {
        var onnx = OnnxGraph.ReadModel(onnxStream, origin);
        using var scope = NewDisposeScope();
        Assign(model, BertOnnxMap.ToStateDict(onnx, model, origin), origin);
    }

    /// <summary>Loads a .safetensors file or PyTorch state_dict pickle with Hugging Face BERT (or, for a RoBERTa config,
    /// RoBERTa) keys.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Unreadable file, or keys/shapes that do not fit the network (all listed).</exception>
    public static void LoadStateDict(BertEncoder model, string path)
    {
        using var scope = NewDisposeScope();
        var tensors = StateDictLoader.Read(path);
        var byKey = new Dictionary<string, Tensor>();
        var twice = new List<string>();
        string prefix = model.Config.CheckpointPrefix;
        foreach (var (key, tensor) in tensors)
            if (!byKey.TryAdd(WithoutPrefix(key, prefix), tensor)) twice.Add(WithoutPrefix(key, prefix));
        if (twice.Count > 0)
            throw new InvalidDataException(
                $"'{path}' holds these weights both with and without the '{prefix}' prefix: {string.Join(", ", twice)}.");
        Assign(model, byKey, path);
    }

    /// <summary>
    /// Fills BERT's masked-language-model head from the <c>cls.predictions.*</c> tensors of a .safetensors file or
    /// PyTorch pickle (a <c>BertForMaskedLM</c> or <c>BertForPreTraining</c> checkpoint, or a folder this library's
    /// pretraining wrote). The decoder weight is tied to the word embeddings and not read; the decoder bias may be
    /// saved as <c>cls.predictions.bias</c> or <c>cls.predictions.decoder.bias</c> (both name one tensor in Hugging Face).
    /// Other <c>cls.*</c> heads (next-sentence prediction) are ignored.
    /// </summary>
    /// <returns>False when the file has no <c>cls.predictions.transform.*</c> tensors (the head keeps its initialisation).</returns>
    /// <exception cref="InvalidDataException">Some of the head's tensors are there and others missing or shaped otherwise (all listed).</exception>
    public static bool LoadPredictionHead(BertLmPredictionHead head, string path)
    {
        const string prefix = BertLmPredictionHead.HuggingFacePrefix;
        using var scope = NewDisposeScope();
        var source = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in StateDictLoader.Read(path))
            if (key.StartsWith(prefix, StringComparison.Ordinal)) source[key] = tensor;
        if (!source.Keys.Any(k => k.StartsWith(prefix + "transform.", StringComparison.Ordinal))) return false;
        if (!source.ContainsKey(prefix + "bias") && source.Remove(prefix + "decoder.bias", out var decoderBias)) source[prefix + "bias"] = decoderBias;
        var target = head.state_dict().ToDictionary(kv => prefix + kv.Key, kv => kv.Value);
        StateDictLoader.AssignTensors(target, source, path, "BERT's masked-language-model head",
            ignored: key => key.StartsWith(prefix + "decoder.", StringComparison.Ordinal));
        return true;
    }

    private static void Assign(BertEncoder model, IReadOnlyDictionary<string, Tensor> source, string origin) =>
        StateDictLoader.Assign(model, source, origin,
            $"BertEncoder {model.Config} {(model.HasPooler ? "with" : "without")} pooler",
            ignored: key => IsIgnored(key, model.HasPooler, model.Config.ModelType));
}
