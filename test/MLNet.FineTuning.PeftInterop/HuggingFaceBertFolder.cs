using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using static TorchSharp.torch;

namespace MLNet.FineTuning.PeftInterop;

/// <summary>
/// Writes a <see cref="BertEncoder"/> as a Hugging Face BERT folder that
/// <c>BertForSequenceClassification.from_pretrained(folder, num_labels=K)</c> loads: <c>config.json</c>,
/// <c>model.safetensors</c>, <c>vocab.txt</c>, <c>tokenizer_config.json</c>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Weight keys are the encoder's (Hugging Face <c>BertModel</c> names) with <c>bert.</c> in front, as a
/// <c>BertFor…</c> checkpoint stores them (<c>base_model_prefix = "bert"</c>), so they land in
/// <c>BertForSequenceClassification.bert</c> without any prefix juggling; only <c>classifier.*</c> is then left to
/// the new head. <c>BertCheckpoint.Load</c> reads the prefix too.</item>
/// <item>The safetensors header carries <c>"__metadata__": {"format": "pt"}</c>, what <c>save_pretrained</c> writes:
/// transformers' checkpoint readers have refused files whose format is missing or other than pt/tf/flax/mlx
/// (the check's wording has varied between versions; with the field it passes them all).</item>
/// <item><c>tokenizer_config.json</c> names <c>do_lower_case</c> explicitly: transformers 5's tokenizers-backed
/// <c>BertTokenizer</c> has had <c>do_lower_case=False</c> as its default in some versions, the Python one <c>True</c>.</item>
/// </list>
/// </remarks>
internal static class HuggingFaceBertFolder
{
    /// <summary>The prefix of the encoder's keys in a <c>BertFor…</c> checkpoint.</summary>
    public const string Prefix = "bert.";

    /// <summary>Writes the four files into <paramref name="folder"/> (created if missing).</summary>
    /// <param name="folder">The target folder.</param>
    /// <param name="encoder">The encoder, before LoRA is injected (its keys must be plain <c>BertModel</c> names).</param>
    /// <param name="vocabulary">The bytes of vocab.txt (UTF-8; CRLF lines are written as LF).</param>
    /// <param name="lowerCase">The tokenizer's <c>do_lower_case</c>.</param>
    public static void Write(string folder, BertEncoder encoder, byte[] vocabulary, bool lowerCase)
    {
        Directory.CreateDirectory(folder);
        var config = (JsonObject)JsonNode.Parse(encoder.Config.ToJson())!;
        config["architectures"] = new JsonArray("BertForSequenceClassification");
        config["initializer_range"] = 0.02;
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(Indented));

        var tensors = new List<(string Key, Tensor Tensor)>();
        foreach (var (key, tensor) in encoder.state_dict())
        {
            if (key.Contains("lora_", StringComparison.Ordinal) || key.Contains("base_layer", StringComparison.Ordinal))
                throw new InvalidOperationException($"Write the base folder before LoRA is injected; the encoder has '{key}'.");
            tensors.Add((Prefix + key, tensor));
        }
        WriteSafetensors(Path.Combine(folder, "model.safetensors"), tensors);

        // LF lines, as vocab.txt files on the Hub have them (MiniLM's resource has CRLF; the readers checked cope with
        // both, but one that split on '\n' alone would keep a '\r' on every token).
        string text = Encoding.UTF8.GetString(vocabulary).Replace("\r\n", "\n", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(folder, "vocab.txt"), text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        var tokenizer = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = lowerCase,
            ["do_basic_tokenize"] = true,
            ["tokenize_chinese_chars"] = true,
            ["strip_accents"] = null,
            ["model_max_length"] = encoder.Config.MaxPositionEmbeddings,
            ["unk_token"] = "[UNK]",
            ["sep_token"] = "[SEP]",
            ["pad_token"] = "[PAD]",
            ["cls_token"] = "[CLS]",
            ["mask_token"] = "[MASK]",
            ["clean_up_tokenization_spaces"] = true,
        };
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizer.ToJsonString(Indented));
    }

    /// <summary>
    /// A float32 safetensors file: 8-byte little-endian header length, the JSON header (with <c>__metadata__</c>,
    /// padded with spaces to a multiple of 8 so the data is aligned), then each tensor's bytes in the header's order.
    /// </summary>
    public static void WriteSafetensors(string path, IReadOnlyList<(string Key, Tensor Tensor)> tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (key, tensor) in tensors)
        {
            if (tensor.dtype != ScalarType.Float32)
                throw new NotSupportedException($"'{key}' is {tensor.dtype}; only float32 is written.");
            float[] values;
            using (NewDisposeScope()) values = tensor.detach().cpu().contiguous().data<float>().ToArray();   // temporaries held (docs/scalar-lifetime.md)
            byte[] bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors is little-endian.");
            header[key] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray([.. tensor.shape.Select(d => JsonValue.Create(d))]),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((ulong)padded));
        file.Write(json);
        for (int i = json.Length; i < padded; i++) file.WriteByte((byte)' ');
        foreach (var blob in blobs) file.Write(blob);
    }

    /// <summary>The JSON header of a safetensors file (for checks).</summary>
    public static JsonObject ReadSafetensorsHeader(string path)
    {
        using var file = File.OpenRead(path);
        var length = new byte[8];
        file.ReadExactly(length);
        var json = new byte[checked((int)BitConverter.ToUInt64(length))];
        file.ReadExactly(json);
        return (JsonObject)JsonNode.Parse(json)!;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
}
