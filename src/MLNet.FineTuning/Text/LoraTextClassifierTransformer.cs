using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;
using TorchSharp.PyBridge;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned text classifier. Scoring runs through ONNX Runtime on the exported (adapter-merged) network;
/// <c>mlContext.Model.Save</c> stores it as public ML.NET components (tokenizer vocabulary included), so the
/// saved model loads with Microsoft.ML, Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime only
/// (call <c>RegisterFineTuningRuntime()</c> before <c>Load</c>).
/// </summary>
public sealed class LoraTextClassifierTransformer : FineTunedTransformer
{
    private readonly byte[] vocabulary;
    private readonly TextClassifier model;
    private readonly LoraTextClassifier.Options options;
    private readonly IReadOnlyDictionary<string, byte[]>? adapter;
    private readonly bool lowerCase;

    internal LoraTextClassifierTransformer(ITransformer scoring, byte[] onnx, TextClassifier model, LoraTextClassifier.Options options,
        IReadOnlyList<string> classNames, TrainingResult result, byte[] vocabulary, bool lowerCase,
        IReadOnlyDictionary<string, byte[]>? adapter, long adapterParameters)
        : base(scoring, onnx, classNames, result)
    {
        this.model = model;
        this.options = options;
        this.vocabulary = vocabulary;
        this.lowerCase = lowerCase;
        this.adapter = adapter;
        AdapterParameterCount = adapterParameters;
    }

    /// <summary>Trained LoRA parameters (0 with full fine-tuning).</summary>
    public long AdapterParameterCount { get; }

    /// <summary>
    /// Writes what a service needs to run the model without ML.NET: <c>model.onnx</c> (dynamic batch and sequence
    /// axes, opset 17), <c>vocab.txt</c> and <c>tokenizer_config.json</c> (<c>do_lower_case</c>,
    /// <c>model_max_length</c>), so any BERT WordPiece tokenizer (Hugging Face's, or
    /// <c>MLNet.FineTuning.Text.BertTextTokenizer</c>) produces the model's inputs. Each file is written to a
    /// temporary name and moved into place.
    /// </summary>
    public void SaveOnnx(string directory)
    {
        Check.NotNull(directory, nameof(directory));
        Directory.CreateDirectory(directory);
        AtomicFile.Write(Path.Combine(directory, "model.onnx"), OnnxBytes, "ONNX model");
        AtomicFile.Write(Path.Combine(directory, "vocab.txt"), vocabulary, "vocabulary");
        var config = new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = lowerCase,
            ["model_max_length"] = options.MaxSequenceLength,
        };
        AtomicFile.Write(Path.Combine(directory, "tokenizer_config.json"),
            System.Text.Encoding.UTF8.GetBytes(config.ToJsonString(new() { WriteIndented = true })), "tokenizer config");
    }

    /// <summary>
    /// Writes the trained LoRA adapter and head in Hugging Face PEFT's layout (<c>adapter_config.json</c>,
    /// <c>adapter_model.safetensors</c>), loadable with <c>PeftModel.from_pretrained</c> on a BertForSequenceClassification.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was trained with <c>FullFineTune</c> (no adapter).</exception>
    public void SaveAdapter(string directory)
    {
        Check.NotNull(directory, nameof(directory));
        if (adapter == null) throw new InvalidOperationException("This model was fully fine-tuned: it has no LoRA adapter. Use SaveWeights.");
        Directory.CreateDirectory(directory);
        foreach (var (name, bytes) in adapter) AtomicFile.Write(Path.Combine(directory, name), bytes, "LoRA adapter file");
    }

    /// <summary>Saves the merged weights (<c>model.safetensors</c>: <c>encoder.*</c> in Hugging Face BertModel names,
    /// <c>head.*</c>) and <c>checkpoint.json</c> (encoder, pooling, class names).</summary>
    public void SaveWeights(string directory)
    {
        Directory.CreateDirectory(directory);
        model.save_safetensors(Path.Combine(directory, "model.safetensors"));
        File.WriteAllText(Path.Combine(directory, "checkpoint.json"),
            LoraTextClassifier.CheckpointMetadata(options, ClassNames).ToJsonString(new() { WriteIndented = true }));
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal TextClassifier Model => model;
}
