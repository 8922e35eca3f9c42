using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Writes a Hugging Face BERT folder that <see cref="BertCheckpoint.Load"/> (the <c>bert-folder</c> encoder) and
/// Hugging Face's <c>from_pretrained</c> read: <c>model.safetensors</c>, <c>vocab.txt</c>, <c>tokenizer_config.json</c>
/// (<c>do_lower_case</c>: a cased vocabulary must not be lower-cased when read back) and <c>config.json</c>, each file
/// whole or not at all (<see cref="AtomicFile"/>), config.json last so that a folder with a config is complete.
/// </summary>
internal static class BertFolderWriter
{
    /// <param name="folder">Created if missing; the four files are replaced, anything else in it is left alone.</param>
    /// <param name="config">The encoder's shape.</param>
    /// <param name="vocabulary">vocab.txt's bytes, as read from the source.</param>
    /// <param name="lowerCase">The tokenizer's casing.</param>
    /// <param name="weights">Tensors by Hugging Face name (<c>bert.*</c>, <c>cls.predictions.*</c>); written in fp32.</param>
    /// <param name="architecture">The Hugging Face class the weights fit (<c>BertForMaskedLM</c>).</param>
    public static void Write(string folder, BertConfig config, byte[] vocabulary, bool lowerCase,
        IReadOnlyDictionary<string, Tensor> weights, string architecture)
    {
        Directory.CreateDirectory(folder);
        using (var scope = NewDisposeScope())
        {
            var cpu = weights.ToDictionary(kv => kv.Key, kv => kv.Value.detach().to(float32).cpu().contiguous());
            AtomicFile.Write(Path.Combine(folder, BertCheckpoint.WeightFileNames[0]), "BERT weights", temp => Safetensors.SaveStateDict(temp, cpu));
        }
        AtomicFile.Write(Path.Combine(folder, "vocab.txt"), vocabulary, "vocabulary");
        var tokenizer = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = lowerCase,
            ["model_max_length"] = config.MaxPositionEmbeddings,
        };
        AtomicFile.Write(Path.Combine(folder, "tokenizer_config.json"), Json(tokenizer), "tokenizer config");
        var json = JsonNode.Parse(config.ToJson())!.AsObject();
        json["architectures"] = new JsonArray(architecture);
        AtomicFile.Write(Path.Combine(folder, "config.json"), Json(json), "BERT config");
    }

    private static byte[] Json(JsonObject o) => Encoding.UTF8.GetBytes(o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
}
