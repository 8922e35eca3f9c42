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
/// Microsoft.ML.OnnxTransformer and MLNet.FineTuning.Runtime only (call <c>RegisterFineTuningRuntime()</c>).
/// </summary>
public sealed class FineTuneImageClassifierTransformer : ITransformer, IDisposable
{
    private readonly ITransformer scoring;
    private readonly byte[] onnx;
    private readonly Classifier model;
    private readonly ImageBackboneDefinition backbone;
    private readonly FineTuneImageClassifier.Options options;
    private readonly Lazy<OnnxImageScorer> batchScorer;

    internal FineTuneImageClassifierTransformer(ITransformer scoring, byte[] onnx, Classifier model, ImageBackboneDefinition backbone,
        FineTuneImageClassifier.Options options, IReadOnlyList<string> classNames, TrainingResult result, int? gpuDeviceId, bool fallbackToCpu)
    {
        this.scoring = scoring;
        this.onnx = onnx;
        this.model = model;
        this.backbone = backbone;
        this.options = options;
        ClassNames = classNames;
        batchScorer = new Lazy<OnnxImageScorer>(() => new OnnxImageScorer(onnx, options.ImageSize, gpuDeviceId, fallbackToCpu));
        History = result.Epochs;
        StoppedEarly = result.StoppedEarly;
    }

    /// <summary>Class names in key order: element i of <c>Score</c> is the probability of ClassNames[i].</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Side of the square network input in pixels.</summary>
    public int ImageSize => options.ImageSize;

    /// <summary>The end-of-epoch progress reports of the run.</summary>
    public IReadOnlyList<TrainingProgress> History { get; }

    /// <summary>true when early stopping ended the run.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The exported ONNX model (input <c>pixels</c> float [batch,3,S,S] RGB 0..255; outputs
    /// <c>probabilities</c> [batch,K], <c>predicted_index</c> int64 [batch], <c>predicted_label</c> string [batch]).</summary>
    public ReadOnlyMemory<byte> OnnxModel => onnx;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => scoring.IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => scoring.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => scoring.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => scoring.Transform(input);

    /// <summary>Saves the public-component form (ML.NET calls this from <c>mlContext.Model.Save</c>).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => scoring.Save(ctx);

    /// <summary>Writes the ONNX model for ONNX Runtime services (dynamic batch axis, opset 17). The file is
    /// written to a temporary name and moved into place: a failure leaves nothing half-written.</summary>
    /// <exception cref="IOException">The path cannot be written; the message names it.</exception>
    public void SaveOnnx(string path) => AtomicFile.Write(Check.NotNull(path, nameof(path)), onnx, "ONNX model");

    /// <summary>Saves the trained weights for continued training or for PyTorch: a folder with
    /// <c>model.safetensors</c> (state_dict keys <c>backbone.*</c>, <c>head.*</c>) and <c>checkpoint.json</c>
    /// (backbone, image size, class names).</summary>
    public void SaveWeights(string directory)
    {
        Directory.CreateDirectory(directory);
        model.save_safetensors(Path.Combine(directory, "model.safetensors"));
        File.WriteAllText(Path.Combine(directory, "checkpoint.json"),
            FineTuneImageClassifier.CheckpointMetadata(options, ClassNames).ToJsonString(new() { WriteIndented = true }));
    }

    /// <summary>
    /// Scores the images of <paramref name="input"/> (same image column as training) many per ONNX Runtime
    /// call, streaming: ML.NET's <c>Transform</c> runs one row per call. Same preprocessing and same scores
    /// as <c>Transform</c>; uses the CUDA provider when the context's <c>GpuDeviceId</c> was set.
    /// </summary>
    /// <param name="input">Rows with the image column.</param>
    /// <param name="batchSize">Images per ONNX Runtime call, ≥ 1. Default 64.</param>
    public IEnumerable<ImagePrediction> PredictBatches(IDataView input, int batchSize = 64)
    {
        Check.NotNull(input, nameof(input));
        Check.Range(batchSize >= 1, nameof(batchSize), "≥ 1", batchSize);
        return batchScorer.Value.Predict(input, options.ImageColumnName, batchSize);
    }

    /// <summary>Frees the TorchSharp weights and the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        model.Dispose();
        if (batchScorer.IsValueCreated) batchScorer.Value.Dispose();
        (scoring as IDisposable)?.Dispose();
    }

    internal Classifier Model => model;
    internal ImagePreprocessing Preprocessing => backbone.Preprocessing;
}
