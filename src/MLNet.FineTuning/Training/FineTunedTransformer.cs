using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// What every fitted fine-tuning transformer shares: it scores through its public-component chain (ONNX Runtime
/// on the exported network), saves as that chain (so <c>mlContext.Model.Load</c> needs only
/// MLNet.FineTuning.Runtime), and keeps the class names, the exported ONNX bytes and the run's history.
/// </summary>
public abstract class FineTunedTransformer : ITransformer, IDisposable
{
    private readonly OnnxScoring scoring;
    private readonly byte[] onnx;
    private bool disposed;

    private protected FineTunedTransformer(OnnxScoring scoring, byte[] onnx, IReadOnlyList<string> classNames, TrainingResult result)
    {
        this.scoring = scoring;
        this.onnx = onnx;
        ClassNames = classNames;
        History = result.Epochs;
        StoppedEarly = result.StoppedEarly;
        RecipeSearch = result.Search;
        WeightInterpolation = result.WeightInterpolation;
    }

    /// <summary>Class names in key order: element i of <c>Score</c> is the probability of ClassNames[i].</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The end-of-epoch progress reports of the run.</summary>
    public IReadOnlyList<TrainingProgress> History { get; }

    /// <summary>true when early stopping ended the run.</summary>
    public bool StoppedEarly { get; }

    /// <summary>The weight interpolation α the run applied (<c>WeightInterpolation</c>, or the one
    /// <c>ChooseWeightInterpolation</c> picked); 1 when off.</summary>
    public double WeightInterpolation { get; }

    /// <summary>What the automatic recipe tried and kept, when <c>TimeBudget</c> was set; otherwise null.</summary>
    public RecipeSearchResult? RecipeSearch { get; }

    /// <summary>The exported ONNX model (opset 17, dynamic batch axis; outputs <c>probabilities</c> [batch,K],
    /// <c>predicted_index</c> int64 [batch], <c>predicted_label</c> string [batch]).</summary>
    public ReadOnlyMemory<byte> OnnxModel => onnx;

    private protected byte[] OnnxBytes => onnx;

    /// <inheritdoc/>
    public bool IsRowToRowMapper => scoring.Chain.IsRowToRowMapper;

    /// <inheritdoc/>
    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => scoring.Chain.GetOutputSchema(inputSchema);

    /// <inheritdoc/>
    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) => Scoring.GetRowToRowMapper(inputSchema);

    /// <inheritdoc/>
    public IDataView Transform(IDataView input) => Scoring.Transform(input);

    /// <summary>Saves the public-component form (ML.NET calls this from <c>mlContext.Model.Save</c>).</summary>
    void ICanSaveModel.Save(ModelSaveContext ctx) => Scoring.Save(ctx);

    /// <summary>Frees the TorchSharp weights and the ONNX Runtime sessions, and deletes the temporary copy of the ONNX graph that
    /// scoring reads.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Dispose(true);
        scoring.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Throws once <see cref="Dispose()"/> has run, naming what is gone, for every member that needs the weights,
    /// the sessions or the graph file (without it: a NullReferenceException from inside ONNX Runtime, a missing temporary
    /// file, or weights read after they were freed).</summary>
    private protected void ThrowIfDisposed()
    {
        if (disposed)
            throw new ObjectDisposedException(GetType().Name, $"This {GetType().Name} was disposed: its weights, ONNX Runtime sessions and " +
                "temporary graph file are freed. Score, save (Model.Save, SaveWeights) and export it before Dispose; OnnxModel, " +
                "the float32 SaveOnnx and the properties still work.");
    }

    private ITransformer Scoring
    {
        get
        {
            ThrowIfDisposed();
            return scoring.Chain;
        }
    }

    /// <summary>Frees what the derived transformer holds (its TorchSharp weights).</summary>
    protected abstract void Dispose(bool disposing);
}
