using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
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
    private readonly TextTokenizerFiles tokenizer;
    private readonly TextClassifier model;
    private readonly LoraTextClassifier.Options options;
    private readonly IReadOnlyDictionary<string, byte[]>? adapter;

    internal LoraTextClassifierTransformer(OnnxScoring scoring, byte[] onnx, TextClassifier model, LoraTextClassifier.Options options,
        IReadOnlyList<string> classNames, TrainingResult result, TextTokenizerFiles tokenizer,
        IReadOnlyDictionary<string, byte[]>? adapter, long adapterParameters)
        : base(scoring, onnx, classNames, result)
    {
        this.model = model;
        this.options = options;
        this.tokenizer = tokenizer;
        this.adapter = adapter;
        AdapterParameterCount = adapterParameters;
    }

    /// <summary>Trained LoRA parameters (0 with full fine-tuning).</summary>
    public long AdapterParameterCount { get; }

    /// <summary>
    /// Writes what a service needs to run the model without ML.NET: <c>model.onnx</c> (dynamic batch and sequence
    /// axes, opset 12), <c>vocab.txt</c> and <c>tokenizer_config.json</c> (<c>do_lower_case</c>,
    /// <c>model_max_length</c>), so any BERT WordPiece tokenizer (Hugging Face's, or
    /// <c>MLNet.FineTuning.Runtime.Text.BertTextTokenizer</c>) produces the model's inputs. Each file is written to a
    /// temporary name and moved into place.
    /// </summary>
    public void SaveOnnx(string directory) => SaveOnnx(directory, OnnxPrecision.Float32);

    /// <summary>
    /// <see cref="SaveOnnx(string)"/> with the arithmetic of <c>model.onnx</c> chosen: <see cref="OnnxPrecision.Float32"/>
    /// writes the model that <c>Transform</c> and the saved ML.NET model run; <see cref="OnnxPrecision.Int8"/> writes the
    /// same graph with the encoder's feed-forward projections dynamically quantized (same inputs and
    /// outputs, opset 12, standard ops only), for CPU services that run <c>model.onnx</c> in ONNX Runtime themselves.
    /// </summary>
    /// <remarks>
    /// The int8 file is written from the merged network on each call; the model's own scoring stays float32. On the
    /// 2-core AVX512-VNNI machine of the text benchmark it ran 1.76× as fast as the float32 export (2.04× TorchSharp),
    /// moving the LoRA model's probabilities by 0.008 at most and keeping 254 of 256 argmax (docs/benchmarks.md,
    /// docs/text-saved-model.md). Without int8 dot-product
    /// instructions (AVX2 only) ONNX Runtime's u8·s8 kernels may saturate intermediate sums; check accuracy there.
    /// </remarks>
    /// <param name="directory">The folder to write to (created if missing).</param>
    /// <param name="precision">Float32 (what <see cref="SaveOnnx(string)"/> writes) or Int8.</param>
    public void SaveOnnx(string directory, OnnxPrecision precision)
    {
        Check.NotNull(directory, nameof(directory));
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, "Unknown ONNX precision.");
        TextModelFiles.WriteOnnx(directory, precision == OnnxPrecision.Float32 ? OnnxBytes : Int8OnnxBytes(), tokenizer, options.MaxSequenceLength);
    }

    /// <summary>
    /// Writes the trained LoRA adapter and head in Hugging Face PEFT's layout (<c>adapter_config.json</c>,
    /// <c>adapter_model.safetensors</c>), loadable with <c>PeftModel.from_pretrained</c> on a BertForSequenceClassification.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model was trained with <c>FullFineTune</c> (no adapter).</exception>
    public void SaveAdapter(string directory)
    {
        Check.NotNull(directory, nameof(directory));
        TextModelFiles.WriteAdapter(directory, adapter);
    }

    /// <summary>Saves the merged weights (<c>model.safetensors</c>: <c>encoder.*</c> in Hugging Face BertModel names,
    /// <c>head.*</c>) and <c>checkpoint.json</c> (encoder, pooling, class names).</summary>
    public void SaveWeights(string directory)
    {
        ThrowIfDisposed();
        Directory.CreateDirectory(directory);
        // Each file whole or not at all (a temporary name, flushed, then renamed), as every other file the library writes.
        AtomicFile.Write(Path.Combine(directory, "model.safetensors"), "weights", temp => model.save_safetensors(temp));
        AtomicFile.Write(Path.Combine(directory, "checkpoint.json"),
            System.Text.Encoding.UTF8.GetBytes(LoraTextClassifier.CheckpointMetadata(options, ClassNames).ToJsonString(new() { WriteIndented = true })), "checkpoint metadata");
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal TextClassifier Model => model;

    /// <summary>The <see cref="OnnxPrecision.Int8"/> export of the merged network.</summary>
    internal byte[] Int8OnnxBytes()
    {
        ThrowIfDisposed();   // exported again from the weights, unlike the float32 bytes kept since Fit
        return TextClassifierExporter.Export(model.Encoder, model.Pooling, model.Head, ClassNames.ToArray(), TextClassifierExporter.Int8Projections,
            textPairs: options.SecondTextColumnName != null);
    }
}
