using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned multi-label text classifier. Scoring runs through ONNX Runtime on the exported (adapter-merged) network;
/// <c>mlContext.Model.Save</c> stores it as public ML.NET components (tokenizer vocabulary included), so the saved model
/// loads with Microsoft.ML, Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime only (call
/// <c>RegisterFineTuningRuntime()</c> before <c>Load</c>). The ONNX outputs are <c>probabilities</c> float [batch, K] and
/// <c>predicted_labels</c> bool [batch, K].
/// </summary>
public sealed class LoraTextMultiLabelClassifierTransformer : FineTunedTransformer
{
    private readonly TextTokenizerFiles tokenizer;
    private readonly TextClassifier model;
    private readonly LoraTextMultiLabelClassifier.Options options;
    private readonly IReadOnlyDictionary<string, byte[]>? adapter;

    internal LoraTextMultiLabelClassifierTransformer(OnnxScoring scoring, byte[] onnx, TextClassifier model, LoraTextMultiLabelClassifier.Options options,
        IReadOnlyList<string> labelNames, IReadOnlyList<float> thresholds, TrainingResult result, TextTokenizerFiles tokenizer,
        IReadOnlyDictionary<string, byte[]>? adapter, long adapterParameters)
        : base(scoring, onnx, labelNames, result)
    {
        this.model = model;
        this.options = options;
        this.tokenizer = tokenizer;
        this.adapter = adapter;
        Thresholds = thresholds;
        AdapterParameterCount = adapterParameters;
    }

    /// <summary>Each label's decision threshold on its probability, in <see cref="FineTunedTransformer.ClassNames"/>' order.</summary>
    public IReadOnlyList<float> Thresholds { get; }

    /// <summary>Trained LoRA parameters (0 with full fine-tuning).</summary>
    public long AdapterParameterCount { get; }

    /// <summary>Writes <c>model.onnx</c> (outputs <c>probabilities</c>, <c>predicted_labels</c>), <c>vocab.txt</c> and
    /// <c>tokenizer_config.json</c>, as <see cref="LoraTextClassifierTransformer.SaveOnnx(string)"/> does.</summary>
    public void SaveOnnx(string directory) =>
        TextModelFiles.WriteOnnx(Check.NotNull(directory, nameof(directory)), OnnxBytes, tokenizer, options.MaxSequenceLength);

    /// <summary>Writes the trained LoRA adapter and the K-output head in Hugging Face PEFT's layout.</summary>
    /// <exception cref="InvalidOperationException">The model was trained with <c>FullFineTune</c> (no adapter).</exception>
    public void SaveAdapter(string directory) => TextModelFiles.WriteAdapter(Check.NotNull(directory, nameof(directory)), adapter);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal TextClassifier Model => model;
}
