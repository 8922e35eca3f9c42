using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Inputs;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>The text command's part of a run: the task's text estimator (<see cref="LoraTextClassifier"/>,
/// <see cref="LoraTextRegressor"/> or <see cref="LoraTextMultiLabelClassifier"/>, by the options' type) on rows of Label,
/// Text (and Text2).</summary>
internal sealed class TextRun(TextFineTuningOptions options, RunTask task, string textColumn, string? secondTextColumn, string labelColumn) : RunKind<TextRow>
{
    public override string Name => "text";
    public override FineTuningOptions Options => options;

    public override IReadOnlyList<TextRow> Read(string data, string option) => TextInput.Read(data, option, textColumn, secondTextColumn, labelColumn, task.AllowsEmptyLabel);
    public override string LabelOf(TextRow row) => row.Label;

    public override string Describe(IReadOnlyList<TextRow> rows)
    {
        var lengths = rows.Select(r => r.Text.Length + r.Text2.Length).Order().ToList();
        return $"median text {lengths[lengths.Count / 2]} characters (longest {lengths[^1]}), cut to {options.MaxSequenceLength} tokens";
    }

    public override IEstimator<ITransformer> Inputs(MLContext ml) => new EstimatorChain<ITransformer>();

    public override IEstimator<ITransformer> FineTuner(MLContext ml) => options switch
    {
        LoraTextClassifier.Options o => ml.MulticlassClassification.Trainers.LoraTextClassifier(o),
        LoraTextRegressor.Options o => ml.Regression.Trainers.LoraTextRegressor(o),
        LoraTextMultiLabelClassifier.Options o => ml.MultiLabelClassification().Trainers.LoraTextClassifier(o),
        _ => throw new NotSupportedException(options.GetType().Name),
    };

    // The quality suite's text baseline: word uni/bigrams and character trigrams (FeaturizeText's defaults).
    public override IEstimator<ITransformer> BaselineFeatures(MLContext ml) =>
        secondTextColumn == null
            ? ml.Transforms.Text.FeaturizeText("Features", nameof(TextRow.Text))
            : ml.Transforms.Text.FeaturizeText("Features", new Microsoft.ML.Transforms.Text.TextFeaturizingEstimator.Options(), nameof(TextRow.Text), nameof(TextRow.Text2));

    public override Report.ReportCell Example(TextRow row, string name)
    {
        string text = row.Text2.Length == 0 ? row.Text : $"{row.Text} ‖ {row.Text2}";
        return text.Length <= 200 ? text : text[..199] + "…";
    }

    public override IReadOnlyList<string> ModelInputs(TextRow row) => secondTextColumn == null ? [row.Text] : [row.Text, row.Text2];

    public override void SaveOnnx(ITransformer fineTuned, string folder)
    {
        switch (fineTuned)
        {
            case LoraTextClassifierTransformer c: c.SaveOnnx(folder); break;
            case LoraTextRegressorTransformer r: r.SaveOnnx(folder); break;
            case LoraTextMultiLabelClassifierTransformer m: m.SaveOnnx(folder); break;
            default: throw new NotSupportedException(fineTuned.GetType().Name);
        }
    }
}
