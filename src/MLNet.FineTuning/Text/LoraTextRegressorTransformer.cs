using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned text regressor. Scoring runs through ONNX Runtime on the exported (adapter-merged) network;
/// <c>mlContext.Model.Save</c> stores it as public ML.NET components (tokenizer vocabulary included), so the saved model
/// loads with Microsoft.ML, Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime only (call
/// <c>RegisterFineTuningRuntime()</c> before <c>Load</c>). The ONNX output is <c>score</c> float [batch, 1], in the label's unit.
/// </summary>
public sealed class LoraTextRegressorTransformer : FineTunedTransformer
{
    private readonly TextTokenizerFiles tokenizer;
    private readonly TextClassifier model;
    private readonly LoraTextRegressor.Options options;
    private readonly IReadOnlyDictionary<string, byte[]>? adapter;

    internal LoraTextRegressorTransformer(OnnxScoring scoring, byte[] onnx, TextClassifier model, LoraTextRegressor.Options options,
        TargetScaling scaling, TrainingResult result, TextTokenizerFiles tokenizer, IReadOnlyDictionary<string, byte[]>? adapter,
        long adapterParameters)
        : base(scoring, onnx, [], result)
    {
        this.model = model;
        this.options = options;
        this.tokenizer = tokenizer;
        this.adapter = adapter;
        AdapterParameterCount = adapterParameters;
        TargetMean = scaling.Mean;
        TargetSpread = scaling.Spread;
    }

    /// <summary>Trained LoRA parameters (0 with full fine-tuning).</summary>
    public long AdapterParameterCount { get; }

    /// <summary>The training targets' mean: what the network's output 0 stands for.</summary>
    public double TargetMean { get; }

    /// <summary>The training targets' spread (population standard deviation): the unit of the network's output.</summary>
    public double TargetSpread { get; }

    /// <summary>Writes <c>model.onnx</c> (output <c>score</c>), <c>vocab.txt</c> and <c>tokenizer_config.json</c>, as
    /// <see cref="LoraTextClassifierTransformer.SaveOnnx(string)"/> does.</summary>
    public void SaveOnnx(string directory) =>
        TextModelFiles.WriteOnnx(Check.NotNull(directory, nameof(directory)), OnnxBytes, tokenizer, options.MaxSequenceLength);

    /// <summary>Writes the trained LoRA adapter and the one-output head in Hugging Face PEFT's layout.</summary>
    /// <exception cref="InvalidOperationException">The model was trained with <c>FullFineTune</c> (no adapter).</exception>
    public void SaveAdapter(string directory) => TextModelFiles.WriteAdapter(Check.NotNull(directory, nameof(directory)), adapter);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal TextClassifier Model => model;
}
