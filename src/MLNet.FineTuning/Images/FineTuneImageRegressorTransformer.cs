using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned image regressor. Scoring runs through ONNX Runtime on the exported network; <c>mlContext.Model.Save</c>
/// stores it as public ML.NET components, so the saved model loads with Microsoft.ML, Microsoft.ML.ImageAnalytics,
/// Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime (call <c>RegisterFineTuningRuntime()</c>; images given as
/// encoded bytes also need <c>RegisterFineTuningImageRuntime()</c>). The ONNX output is <c>score</c> float [batch, 1], in
/// the label's unit.
/// </summary>
public sealed class FineTuneImageRegressorTransformer : FineTunedTransformer
{
    private readonly Classifier model;
    private readonly FineTuneImageRegressor.Options options;

    internal FineTuneImageRegressorTransformer(OnnxScoring scoring, byte[] onnx, Classifier model, FineTuneImageRegressor.Options options,
        TargetScaling scaling, TrainingResult result)
        : base(scoring, onnx, [], result)
    {
        this.model = model;
        this.options = options;
        TargetMean = scaling.Mean;
        TargetSpread = scaling.Spread;
    }

    /// <summary>Side of the square network input in pixels.</summary>
    public int ImageSize => options.ImageSize;

    /// <summary>The training targets' mean: what the network's output 0 stands for.</summary>
    public double TargetMean { get; }

    /// <summary>The training targets' spread (population standard deviation): the unit of the network's output.</summary>
    public double TargetSpread { get; }

    /// <summary>Writes the ONNX model (input <c>pixels</c>, output <c>score</c>) to a temporary name, then moves it into place.</summary>
    /// <exception cref="IOException">The path cannot be written; the message names it.</exception>
    public void SaveOnnx(string path) => AtomicFile.Write(Check.NotNull(path, nameof(path)), OnnxBytes, "ONNX model");

    /// <inheritdoc/>
    protected override void Dispose(bool disposing) => model.Dispose();

    internal Classifier Model => model;
}
