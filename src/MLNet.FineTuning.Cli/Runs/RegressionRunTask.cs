using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Report;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>Regression (<c>--task regression</c>): the label is a number; ML.NET's regression metrics beside SDCA
/// regression on the same features; the rows with the largest errors.</summary>
internal sealed class RegressionRunTask : RunTask
{
    public override string Name => "regression";
    public override string LabelMeaning => "the number to predict";

    public override IReadOnlyList<string> CheckLabels(IReadOnlyList<string> train, IReadOnlyList<string>? valid, string validWhat, IReadOnlyList<string>? test)
    {
        var values = Parse(train, "--data");
        if (valid != null) Parse(valid, validWhat);
        if (test != null) Parse(test, "--test");
        if (values.Distinct().Count() < 2)
            throw new UserError($"--data: every training row has the label {values[0].ToString(CultureInfo.InvariantCulture)}; a regression needs targets that vary.");
        return [];
    }

    public override string DescribeLabels(IReadOnlyList<string> names, IReadOnlyList<string> trainLabels)
    {
        var values = trainLabels.Select(l => double.Parse(l, NumberStyles.Float, CultureInfo.InvariantCulture)).ToList();
        return FormattableString.Invariant($"target from {values.Min():G4} to {values.Max():G4} (mean {values.Average():G4})");
    }

    // Text to Single: ML.NET's own parse, the invariant culture's (values were checked by CheckLabels).
    public override IEstimator<ITransformer> Label(MLContext ml) => ml.Transforms.Conversion.ConvertType("Label", outputKind: DataKind.Single);

    public override TaskOutcome Evaluate<TRow>(EvaluationInput<TRow> x)
    {
        var ml = x.Ml;
        var scored = x.Scored("Label", "Score");
        var fine = RegressionReport.From("fine-tuned", ml.Regression.Evaluate(scored), x.TrainSeconds);
        RegressionReport? baseline = null;
        if (x.Baseline)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var model = x.Label.Append(x.Kind.BaselineFeatures(ml)).AppendCacheCheckpoint(ml).Append(ml.Regression.Trainers.Sdca()).Fit(x.Train);
            baseline = RegressionReport.From("ML.NET baseline (SDCA regression)", ml.Regression.Evaluate(model.Transform(x.Rows)), watch.Elapsed.TotalSeconds);
        }
        var truth = scored.GetColumn<float>("Label").ToArray();
        var predicted = scored.GetColumn<float>("Score").ToArray();
        int shown = 0;
        var worst = Enumerable.Range(0, truth.Length).OrderByDescending(i => Math.Abs(predicted[i] - truth[i])).Take(12)
            .Select(i => (Input: x.Kind.Example(x.RowList[i], $"example-{++shown}"), Truth: truth[i], Predicted: predicted[i])).ToList();
        return new TaskOutcome(fine, baseline, Headline(fine), baseline == null ? null : Headline(baseline),
            doc => Result(doc, fine, baseline), doc => Details(doc, worst));
    }

    public override Consumption.OutputShape ConsumptionOutput(IReadOnlyList<string> names) => Consumption.OutputShape.Value();

    static Dictionary<string, double> Headline(RegressionReport r) => new() { ["R²"] = r.RSquared, ["RMSE"] = r.RootMeanSquaredError, ["MAE"] = r.MeanAbsoluteError };

    static void Result(ReportDocument doc, RegressionReport f, RegressionReport? b) =>
        doc.Paragraph(b == null ? "No baseline was trained (--no-baseline)." :
               $"The fine-tuned model's R² is {Format.Number(Math.Abs(f.RSquared - b.RSquared), "0.000")} {(f.RSquared >= b.RSquared ? "above" : "below")} ML.NET's SDCA regression trained on the same rows " +
               "(R² 1 is exact, 0 is predicting the mean).")
           .Table(["model", "R²", "RMSE", "MAE", "training time"],
                  new[] { f, b }.OfType<RegressionReport>().Select(r => (IReadOnlyList<ReportCell>)
                      [r.Model, Format.Number(r.RSquared, "0.000"), Format.Number(r.RootMeanSquaredError, "G4"), Format.Number(r.MeanAbsoluteError, "G4"), $"{r.TrainSeconds:0} s"]));

    static void Details(ReportDocument doc, IReadOnlyList<(ReportCell Input, float Truth, float Predicted)> worst) =>
        doc.Heading("Largest errors")
           .Paragraph("The evaluated rows the model missed by the most.")
           .Table(["input", "true value", "predicted", "error"],
                  worst.Select(w => (IReadOnlyList<ReportCell>)
                      [w.Input, Format.Number(w.Truth, "G4"), Format.Number(w.Predicted, "G4"), Format.Number(w.Predicted - w.Truth, "+0.###;-0.###")]));

    static List<double> Parse(IReadOnlyList<string> labels, string what)
    {
        var values = new List<double>(labels.Count);
        for (int i = 0; i < labels.Count; i++)
        {
            if (!double.TryParse(labels[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                throw new UserError($"{what}: row {i + 2}: the label '{labels[i]}' is not a finite number (--task regression reads numbers like 3.5 or -1e3, '.' as the decimal point).");
            values.Add(v);
        }
        return values;
    }
}
