using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Text;

/// <summary>The files a text model hands a service or PEFT, for every text task: each written to a temporary name and
/// moved into place.</summary>
internal static class TextModelFiles
{
    /// <summary><c>model.onnx</c>, the tokenizer's files and <c>tokenizer_config.json</c> (its class, setting and
    /// <c>model_max_length</c>): what a Hugging Face tokenizer, or the runtime's, needs to produce the model's inputs.</summary>
    public static void WriteOnnx(string directory, byte[] onnx, TextTokenizerFiles tokenizer, int maxLength)
    {
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, "model.onnx"), onnx, "ONNX model");
        foreach (var (name, bytes) in tokenizer.Files) AtomicFile.Write(Path.Combine(directory, name), bytes, "tokenizer file");
        AtomicFile.Write(Path.Combine(directory, TextTokenizerFiles.ConfigFile),
            System.Text.Encoding.UTF8.GetBytes(tokenizer.Config(maxLength).ToJsonString(new() { WriteIndented = true })), "tokenizer config");
    }

    /// <summary>The LoRA adapter and head in PEFT's layout (<c>adapter_config.json</c>, <c>adapter_model.safetensors</c>).</summary>
    /// <exception cref="InvalidOperationException">The model was fully fine-tuned (no adapter).</exception>
    public static void WriteAdapter(string directory, IReadOnlyDictionary<string, byte[]>? adapter)
    {
        if (adapter == null) throw new InvalidOperationException("This model was fully fine-tuned: it has no LoRA adapter. Use SaveWeights.");
        Directory.CreateDirectory(directory);
        foreach (var (name, bytes) in adapter) AtomicFile.Write(Path.Combine(directory, name), bytes, "LoRA adapter file");
    }
}
