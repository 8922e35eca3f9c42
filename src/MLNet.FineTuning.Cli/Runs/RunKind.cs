using Microsoft.ML;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// What differs between an image run and a text run; <see cref="FineTuneRun"/> is the one outline around it.
/// Rows carry a <c>Label</c> column; <see cref="Inputs"/> turns the other columns into what the estimator reads.
/// </summary>
internal abstract class RunKind<TRow> where TRow : class
{
    /// <summary>"image" or "text": the command, recorded in finetune.json.</summary>
    public abstract string Name { get; }
    /// <summary>The estimator's options, with the user's choices applied; the run adds validation, progress,
    /// cancellation and checkpoints.</summary>
    public abstract FineTuningOptions Options { get; }

    /// <summary>Reads one data argument (<paramref name="option"/> names it in errors).</summary>
    public abstract IReadOnlyList<TRow> Read(string data, string option);
    public abstract string LabelOf(TRow row);
    /// <summary>The rows left after dropping those the run cannot read, when the user asked to skip them; names what it
    /// dropped on the console. By default every row stays (and an unreadable one fails the run with its name).</summary>
    public virtual IReadOnlyList<TRow> DropUnreadable(IReadOnlyList<TRow> rows, string option) => rows;
    /// <summary>One line about the inputs (image sizes, text lengths) for the console and finetune.json.</summary>
    public abstract string Describe(IReadOnlyList<TRow> rows);

    /// <summary>Steps from the row columns to the estimator's input columns (e.g. LoadImages); may be empty.</summary>
    public abstract IEstimator<ITransformer> Inputs(MLContext ml);
    /// <summary>The fine-tuning estimator over <see cref="Options"/>.</summary>
    public abstract IEstimator<ITransformer> FineTuner(MLContext ml);
    /// <summary>The ML.NET-only baseline's feature steps, from the row columns to a <c>Features</c> vector.</summary>
    public abstract IEstimator<ITransformer> BaselineFeatures(MLContext ml);
    /// <summary>A row as the report shows it among the worst-classified examples (a thumbnail or a snippet);
    /// <paramref name="name"/> is a file name for a picture.</summary>
    public abstract Report.ReportCell Example(TRow row, string name);
    /// <summary>The row's inputs as the consumption project's ModelInput holds them: an image path, or one or two texts.</summary>
    public abstract IReadOnlyList<string> ModelInputs(TRow row);
    /// <summary>Writes model.onnx (and for text its tokenizer files) into <paramref name="folder"/>.</summary>
    public abstract void SaveOnnx(ITransformer fineTuned, string folder);
}
