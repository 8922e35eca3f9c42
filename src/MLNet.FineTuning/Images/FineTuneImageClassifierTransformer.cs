using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp.PyBridge;

namespace MLNet.FineTuning;

/// <summary>
/// A fine-tuned image classifier. Scoring runs through ONNX Runtime on the exported network (CPU, or the
/// CUDA provider when the context's <c>GpuDeviceId</c> was set); <c>mlContext.Model.Save</c> stores it as
/// public ML.NET components, so the saved model loads with Microsoft.ML, Microsoft.ML.ImageAnalytics,
/// Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime only (call <c>RegisterFineTuningRuntime()</c>); a model
/// trained on encoded image bytes also needs MLNet.FineTuning.Runtime.Images (call <c>RegisterFineTuningImageRuntime()</c>).
/// </summary>
public sealed class FineTuneImageClassifierTransformer : FineTunedTransformer
{
    private readonly Classifier model;
    private readonly ImageBackboneDefinition backbone;
    private readonly FineTuneImageClassifier.Options options;
    private readonly Lazy<OnnxImageScorer> batchScorer;

    internal FineTuneImageClassifierTransformer(OnnxScoring scoring, byte[] onnx, Classifier model, ImageBackboneDefinition backbone,
        FineTuneImageClassifier.Options options, IReadOnlyList<string> classNames, TrainingResult result, int? gpuDeviceId, bool fallbackToCpu)
        : base(scoring, onnx, classNames, result)
    {
        this.model = model;
        this.backbone = backbone;
        this.options = options;
        batchScorer = new Lazy<OnnxImageScorer>(() => new OnnxImageScorer(onnx, options.ImageSize, gpuDeviceId, fallbackToCpu));
    }

    /// <summary>Side of the square network input in pixels.</summary>
    public int ImageSize => options.ImageSize;

    /// <summary>Writes the ONNX model for ONNX Runtime services (dynamic batch axis, opset 17). The file is
    /// written to a temporary name and moved into place: a failure leaves nothing half-written.</summary>
    /// <exception cref="IOException">The path cannot be written; the message names it.</exception>
    public void SaveOnnx(string path) => AtomicFile.Write(Check.NotNull(path, nameof(path)), OnnxBytes, "ONNX model");

    /// <summary>Saves the trained weights for continued training or for PyTorch: a folder with
    /// <c>model.safetensors</c> (state_dict keys <c>backbone.*</c>, <c>head.*</c>) and <c>checkpoint.json</c>
    /// (backbone, image size, class names).</summary>
    public void SaveWeights(string directory)
    {
        ThrowIfDisposed();
        Directory.CreateDirectory(directory);
        // Each file whole or not at all (a temporary name, flushed, then renamed), as every other file the library writes.
        AtomicFile.Write(Path.Combine(directory, "model.safetensors"), "weights", temp => model.save_safetensors(temp));
        AtomicFile.Write(Path.Combine(directory, "checkpoint.json"),
            System.Text.Encoding.UTF8.GetBytes(FineTuneImageClassifier.CheckpointMetadata(options, ClassNames).ToJsonString(new() { WriteIndented = true })), "checkpoint metadata");
    }

    /// <summary>
    /// Scores the images of <paramref name="input"/> (same image column name as training; decoded images or
    /// encoded bytes, whichever that column holds) many per ONNX Runtime
    /// call, streaming: ML.NET's <c>Transform</c> runs one row per call. Same preprocessing and same scores
    /// as <c>Transform</c>; uses the CUDA provider when the context's <c>GpuDeviceId</c> was set.
    /// </summary>
    /// <param name="input">Rows with the image column.</param>
    /// <param name="batchSize">Images per ONNX Runtime call, ≥ 1. Default 64.</param>
    public IEnumerable<ImagePrediction> PredictBatches(IDataView input, int batchSize = 64)
    {
        Check.NotNull(input, nameof(input));
        Check.Range(batchSize >= 1, nameof(batchSize), "≥ 1", batchSize);
        ThrowIfDisposed();
        return batchScorer.Value.Predict(input, options.ImageColumnName, batchSize);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        model.Dispose();
        if (batchScorer.IsValueCreated) batchScorer.Value.Dispose();
    }

    internal Classifier Model => model;
    internal ImagePreprocessing Preprocessing => backbone.Preprocessing;
}
