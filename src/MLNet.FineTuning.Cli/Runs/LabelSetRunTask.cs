using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Report;
using MLNet.FineTuning.Evaluation;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>Multi-label classification (<c>--task multilabel</c>): the label column holds the row's labels separated by
/// <c>--label-separator</c> (none is allowed); the library's multi-label metrics beside one SDCA logistic regression per
/// label on the same features; per-label figures and the rows with the most wrong labels.</summary>
internal sealed class LabelSetRunTask(string separator) : RunTask
{
    public override string Name => "multilabel";
    public override string LabelMeaning => $"the row's labels, separated by '{separator}'";
    public override bool AllowsEmptyLabel => true;

    /// <summary>A row's labels: split, trimmed, empty ones dropped, each once.</summary>
    public IReadOnlyList<string> LabelsOf(string label) =>
        label.Split(separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();

    public override IReadOnlyList<string> CheckLabels(IReadOnlyList<string> train, IReadOnlyList<string>? valid, string validWhat, IReadOnlyList<string>? test)
    {
        var names = train.SelectMany(LabelsOf).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (names.Count < 2)
            throw new UserError($"--data: the training rows have {names.Count} distinct label(s) (separated by '{separator}'); a multi-label classifier needs at least two.");
        foreach (var (labels, what) in new[] { (valid, validWhat), (test, "--test") })
        {
            var unknown = labels?.SelectMany(LabelsOf).Distinct(StringComparer.Ordinal).Except(names).Take(5).ToList();
            if (unknown is { Count: > 0 })
                throw new UserError($"{what}: label(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} never occur in the training rows, so no model can predict them.");
        }
        return names;
    }

    public override string DescribeLabels(IReadOnlyList<string> names, IReadOnlyList<string> trainLabels) =>
        FormattableString.Invariant($"{names.Count} labels, {trainLabels.Average(l => LabelsOf(l).Count):F2} per row");

    /// <summary>The labels text → a Single vector of 0/1 flags named by the labels (the bag of ML.NET's OneHotEncoding over
    /// the split labels). Only training sees this step: the saved model starts after it.</summary>
    public override IEstimator<ITransformer> Label(MLContext ml) =>
        ml.Transforms.CustomMapping<LabelText, LabelText>((i, o) => o.Label = string.Join('\n', LabelsOf(i.Label)), contractName: null)
          .Append(ml.Transforms.Text.TokenizeIntoWords("LabelWords", "Label", separators: ['\n']))
          .Append(ml.Transforms.Categorical.OneHotEncoding("Label", "LabelWords", Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Bag))
          .Append(ml.Transforms.DropColumns("LabelWords"));

    public override TaskOutcome Evaluate<TRow>(EvaluationInput<TRow> x)
    {
        var ml = x.Ml;
        var names = x.Model.ClassNames;
        var thresholds = x.Model switch
        {
            FineTuneImageMultiLabelClassifierTransformer image => image.Thresholds,
            LoraTextMultiLabelClassifierTransformer text => text.Thresholds,
            _ => null,
        };
        var scored = x.Scored("Label", "Score", "PredictedLabel");
        var fine = LabelSetReport.From("fine-tuned", ml.MultiLabelClassification().Evaluate(scored), thresholds, x.TrainSeconds);
        LabelSetReport? baseline = null;
        if (x.Baseline)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var features = x.Label.Append(x.Kind.BaselineFeatures(ml)).Fit(x.Train);
            var metrics = BinaryRelevanceBaseline.Evaluate(ml, features.Transform(x.Train), features.Transform(x.Rows), names);
            baseline = LabelSetReport.From("ML.NET baseline (SDCA logistic regression per label)", metrics, null, watch.Elapsed.TotalSeconds);
        }
        var truth = scored.GetColumn<float[]>("Label").ToArray();
        var predicted = scored.GetColumn<bool[]>("PredictedLabel").ToArray();
        string Set(IEnumerable<bool> flags) => string.Join(separator, flags.Select((f, j) => (f, j)).Where(p => p.f).Select(p => names[p.j]));
        int shown = 0;
        var worst = Enumerable.Range(0, truth.Length)
            .Select(i => (i, wrong: truth[i].Zip(predicted[i]).Count(p => p.First > 0.5f != p.Second)))
            .Where(p => p.wrong > 0).OrderByDescending(p => p.wrong).Take(12)
            .Select(p => (Input: x.Kind.Example(x.RowList[p.i], $"example-{++shown}"), Truth: Set(truth[p.i].Select(f => f > 0.5f)), Predicted: Set(predicted[p.i]), Wrong: p.wrong))
            .ToList();
        return new TaskOutcome(fine, baseline, Headline(fine), baseline == null ? null : Headline(baseline),
            doc => Result(doc, fine, baseline), doc => Details(doc, fine, baseline, worst));
    }

    public override Consumption.OutputShape ConsumptionOutput(IReadOnlyList<string> names) => Consumption.OutputShape.LabelSet(names);

    sealed class LabelText
    {
        public string Label { get; set; } = "";
    }

    static Dictionary<string, double> Headline(LabelSetReport r) => new() { ["micro F1"] = r.MicroF1, ["macro F1"] = r.MacroF1, ["exact match"] = r.SubsetAccuracy };

    static void Result(ReportDocument doc, LabelSetReport f, LabelSetReport? b) =>
        doc.Paragraph(b == null ? "No baseline was trained (--no-baseline)." :
               $"The fine-tuned model's micro F1 is {Format.Points(f.MicroF1 - b.MicroF1)} points {(f.MicroF1 >= b.MicroF1 ? "above" : "below")} ML.NET's baseline " +
               "(one SDCA logistic regression per label) trained on the same rows.")
           .Table(["model", "micro F1", "macro F1", "exact match", "Hamming loss", "training time"],
                  new[] { f, b }.OfType<LabelSetReport>().Select(r => (IReadOnlyList<ReportCell>)
                      [r.Model, Format.Percent(r.MicroF1), Format.Percent(r.MacroF1), Format.Percent(r.SubsetAccuracy), Format.Number(r.HammingLoss, "0.000"), $"{r.TrainSeconds:0} s"]));

    static void Details(ReportDocument doc, LabelSetReport f, LabelSetReport? b, IReadOnlyList<(ReportCell Input, string Truth, string Predicted, int Wrong)> worst)
    {
        doc.Heading("Per label")
           .Table(["label", "rows", "precision", "recall", "F1", "threshold", .. b != null ? new[] { "baseline F1" } : []],
                  f.PerLabel.Select((l, j) => (IReadOnlyList<ReportCell>)
                      [l.Name, l.Support.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Percent(l.Precision), Format.Percent(l.Recall),
                       Format.Percent(l.F1), f.Thresholds is { } t ? Format.Number(t[j], "0.00") : "",
                       .. b != null ? new ReportCell[] { Format.Percent(b.PerLabel[j].F1) } : []]));
        doc.Heading("Rows with the most wrong labels");
        if (worst.Count == 0) doc.Paragraph("Every evaluated row got exactly its labels.");
        else
            doc.Table(["input", "true labels", "predicted", "wrong labels"],
                      worst.Select(w => (IReadOnlyList<ReportCell>)[w.Input, w.Truth, w.Predicted, w.Wrong.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
    }
}
