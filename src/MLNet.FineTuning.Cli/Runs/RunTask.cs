using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Report;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>What a task's evaluation gives the run: the two models' figures as metrics.json writes them, the headline
/// figures finetune.json keeps, and the report's task sections.</summary>
/// <param name="FineTuned">The fine-tuned model's figures (written as they are into metrics.json).</param>
/// <param name="Baseline">The ML.NET-only baseline's, or null with --no-baseline.</param>
/// <param name="Headline">The figures the console and finetune.json show, by name.</param>
/// <param name="BaselineHeadline">The baseline's, or null.</param>
/// <param name="Result">Writes the report's "Result" section.</param>
/// <param name="Details">Writes the sections after "Training" (per class or label, errors, worst examples).</param>
/// <param name="DataPicture">The labels of the training rows as a chart for the "Data" section (class counts), or null.</param>
internal sealed record TaskOutcome(object FineTuned, object? Baseline, IReadOnlyDictionary<string, double> Headline,
                                   IReadOnlyDictionary<string, double>? BaselineHeadline, Action<ReportDocument> Result, Action<ReportDocument> Details,
                                   ReportPicture? DataPicture = null);

/// <summary>The evaluated rows and what scored them, for <see cref="RunTask.Evaluate"/>.</summary>
/// <param name="FineTuned">The fitted chain from the rows' columns (label mapping included) to the scores.</param>
/// <param name="Model">The fine-tuned transformer in it: its class or label names are the outputs' order.</param>
/// <param name="Label">The label mapping (unfitted), for the baseline's chain.</param>
/// <param name="Names">The names <see cref="RunTask.CheckLabels"/> returned (classes in sorted order, labels, or none).</param>
internal sealed record EvaluationInput<TRow>(MLContext Ml, RunKind<TRow> Kind, ITransformer FineTuned, FineTunedTransformer Model, IEstimator<ITransformer> Label,
    IDataView Train, IDataView Rows, IReadOnlyList<TRow> RowList, IReadOnlyList<TRow> TrainRows, IReadOnlyList<string> Names, string EvaluatedOn,
    bool Baseline, double TrainSeconds) where TRow : class
{
    /// <summary>The fine-tuned chain (label mapping included) applied to the evaluated rows, cached: read by the
    /// evaluator and again for the worst examples.</summary>
    public IDataView Scored(params string[] columns) => Ml.Data.Cache(FineTuned.Transform(Rows), columns);
}

/// <summary>
/// What differs between the tasks a run trains (<c>--task</c>): how the label column's text becomes the estimator's
/// label, which estimator of the modality trains, how the result is evaluated beside an ML.NET-only baseline, and the
/// report's task sections. <see cref="FineTuneRun"/> is the one outline around it.
/// </summary>
internal abstract class RunTask
{
    /// <summary>"classification", "regression" or "multilabel": the value of <c>--task</c>, recorded in finetune.json.</summary>
    public abstract string Name { get; }

    /// <summary>What the label column holds, for --label-column's help and messages.</summary>
    public abstract string LabelMeaning { get; }

    /// <summary>Whether a row may have an empty label (a multi-label row with no label).</summary>
    public virtual bool AllowsEmptyLabel => false;

    /// <summary>Whether the image command's folder form (one sub-folder per class) fits the task.</summary>
    public virtual bool TakesClassFolders => false;

    /// <summary>Checks the labels of every split (<see cref="UserError"/> naming the split and the value) and returns the
    /// names the model's outputs carry: the classes, the labels, or none (regression).</summary>
    public abstract IReadOnlyList<string> CheckLabels(IReadOnlyList<string> train, IReadOnlyList<string>? valid, string validWhat, IReadOnlyList<string>? test);

    /// <summary>What the validation share is drawn within (the class, for a stratified split), so each keeps its share.</summary>
    public virtual string SplitKey(string label) => "";

    /// <summary>Says on the console what the validation rows cannot show (a classifier: the classes they lack).</summary>
    public virtual void NoteValidation(IReadOnlyList<string> trainLabels, IReadOnlyList<string> validLabels) { }

    /// <summary>One phrase about the labels for the console ("3 classes", "target from 1.2 to 9.8").</summary>
    public abstract string DescribeLabels(IReadOnlyList<string> names, IReadOnlyList<string> trainLabels);

    /// <summary>From the rows' text <c>Label</c> to the estimator's label column (fitted on the training rows).</summary>
    public abstract IEstimator<ITransformer> Label(MLContext ml);

    /// <summary>Steps after the fine-tuner in the saved model (the classifier's key → text).</summary>
    public virtual IEstimator<ITransformer> Output(MLContext ml) => new EstimatorChain<ITransformer>();

    /// <summary>The evaluation of the fine-tuned model and the baseline on the same rows.</summary>
    public abstract TaskOutcome Evaluate<TRow>(EvaluationInput<TRow> input) where TRow : class;

    /// <summary>The consumption project's ModelOutput members and what its Program prints.</summary>
    public abstract Consumption.OutputShape ConsumptionOutput(IReadOnlyList<string> names);

    /// <summary>The task named by <c>--task</c>.</summary>
    public static RunTask Named(string name, string labelSeparator) => name switch
    {
        "classification" => new ClassificationRunTask(),
        "regression" => new RegressionRunTask(),
        "multilabel" => new LabelSetRunTask(labelSeparator),
        _ => throw new UserError($"--task '{name}': expected classification, regression or multilabel."),
    };
}
