using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned multi-label image classifier. Scoring runs through ONNX Runtime on the exported network;
/// <c>mlContext.Model.Save</c> stores it as public ML.NET components, so the saved model loads with Microsoft.ML,
/// Microsoft.ML.ImageAnalytics, Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime (call <c>RegisterFineTuningRuntime()</c>;
/// images given as encoded bytes also need <c>RegisterFineTuningImageRuntime()</c>). The ONNX outputs are
/// <c>probabilities</c> float [batch, K] and <c>predicted_labels</c> bool [batch, K].
/// </summary>
public sealed class FineTuneImageMultiLabelClassifierTransformer : FineTunedTransformer
{
    private readonly Classifier model;
    private readonly FineTuneImageMultiLabelClassifier.Options options;

    internal FineTuneImageMultiLabelClassifierTransformer(OnnxScoring scoring, byte[] onnx, Classifier model,
        FineTuneImageMultiLabelClassifier.Options options, IReadOnlyList<string> labelNames, IReadOnlyList<float> thresholds, TrainingResult result)
        : base(scoring, onnx, labelNames, result)
    {
        this.model = model;
        this.options = options;
        Thresholds = thresholds;
    }

    /// <summary>Each label's decision threshold on its probability, in <see cref="FineTunedTransformer.ClassNames"/>' order.</summary>
    public IReadOnlyList<float> Thresholds { get; }

    /// <summary>Side of the square network input in pixels.</summary>
    public int ImageSize => options.ImageSize;

    /// <summary>Writes the ONNX model (input <c>pixels</c>; outputs <c>probabilities</c>, <c>predicted_labels</c>) to a
    /// temporary name, then moves it into place.</summary>
    /// <exception cref="IOException">The path cannot be written; the message names it.</exception>
    public void SaveOnnx(string path) => AtomicFile.Write(Check.NotNull(path, nameof(path)), OnnxBytes, "ONNX model");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal Classifier Model => model;
}
