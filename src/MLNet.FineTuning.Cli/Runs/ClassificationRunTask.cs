using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Report;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>Single-label classification (the default task): the label is a class name, mapped to a key; ML.NET's
/// multiclass metrics beside SDCA maximum entropy; per-class figures, the confusion matrix and the worst-classified rows.</summary>
internal sealed class ClassificationRunTask : RunTask
{
    public override string Name => "classification";
    public override string LabelMeaning => "the class names";
    public override bool TakesClassFolders => true;
    public override string SplitKey(string label) => label;

    public override IReadOnlyList<string> CheckLabels(IReadOnlyList<string> train, IReadOnlyList<string>? valid, string validWhat, IReadOnlyList<string>? test)
    {
        var classes = train.Distinct().Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
            throw new UserError($"--data: the training rows have one class ('{classes.Single()}'); a classifier needs at least two.");
        CheckKnown(valid, classes, validWhat);
        CheckKnown(test, classes, "--test");
        NoteLookAlikes(classes);
        return classes;
    }

    // A class of one or two rows keeps them all for training (a fifth of 2 rounds to 0): the validation figures and early
    // stopping then say nothing about it.
    public override void NoteValidation(IReadOnlyList<string> trainLabels, IReadOnlyList<string> validLabels)
    {
        var seen = validLabels.ToHashSet(StringComparer.Ordinal);
        var missing = trainLabels.Where(l => !seen.Contains(l)).GroupBy(l => l).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"'{g.Key}' ({g.Count()} training row{(g.Count() == 1 ? "" : "s")})").ToList();
        if (missing.Count > 0)
            Console.WriteLine($"note: no validation rows of {string.Join(", ", missing)}: the validation figures say nothing about " +
                              $"{(missing.Count == 1 ? "it" : "them")}. Add rows, or pass --valid with some.");
    }

    // "Spam" and "spam", or "no label" and "no  label", are two classes to the model: most likely one class typed two
    // ways. The run goes on as the data says, and says so.
    static void NoteLookAlikes(IReadOnlyList<string> classes)
    {
        static string Folded(string c) => string.Join(' ', c.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).ToLowerInvariant();
        foreach (var group in classes.GroupBy(Folded).Where(g => g.Count() > 1))
            Console.WriteLine($"note: the classes {string.Join(", ", group.Select(c => $"'{c}'"))} differ only in letter case or spaces; " +
                              "they are trained as separate classes. If they are one, write them alike in the data.");
    }

    public override string DescribeLabels(IReadOnlyList<string> names, IReadOnlyList<string> trainLabels) => $"{names.Count} classes";

    public override IEstimator<ITransformer> Label(MLContext ml) => ml.Transforms.Conversion.MapValueToKey("Label");

    public override IEstimator<ITransformer> Output(MLContext ml) => ml.Transforms.Conversion.MapKeyToValue("PredictedLabel");

    public override TaskOutcome Evaluate<TRow>(EvaluationInput<TRow> x)
    {
        var ml = x.Ml;
        var classes = x.Model.ClassNames;
        var scored = x.Scored("Label", "Score", "PredictedLabel");
        var fine = ClassificationReport.From("fine-tuned", ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Label"), classes, x.TrainSeconds);
        ClassificationReport? baseline = null;
        if (x.Baseline)
        {
            // ML.NET alone on the same rows: the figure that says what fine-tuning bought.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var model = x.Label.Append(x.Kind.BaselineFeatures(ml)).AppendCacheCheckpoint(ml)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(x.Train);
            baseline = ClassificationReport.From("ML.NET baseline (SDCA maximum entropy)",
                ml.MulticlassClassification.Evaluate(model.Transform(x.Rows), labelColumnName: "Label"), classes, watch.Elapsed.TotalSeconds);
        }
        var scores = scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToList();
        int shown = 0;
        var worst = WorstExample.Pick(x.RowList, scores, x.Kind.LabelOf, classes, row => x.Kind.Example(row, $"example-{++shown}"), count: 12);
        var counts = x.Names.Select(c => x.TrainRows.Count(r => x.Kind.LabelOf(r) == c)).ToList();
        return new TaskOutcome(fine, baseline, Headline(fine), baseline == null ? null : Headline(baseline),
            doc => Result(doc, fine, baseline), doc => Details(doc, fine, baseline, worst), ReportPlots.ClassCounts(x.Names, counts));
    }

    public override Consumption.OutputShape ConsumptionOutput(IReadOnlyList<string> names) => Consumption.OutputShape.Classes(names);

    static Dictionary<string, double> Headline(ClassificationReport r) => new() { ["micro accuracy"] = r.MicroAccuracy, ["macro accuracy"] = r.MacroAccuracy };

    static void Result(ReportDocument doc, ClassificationReport f, ClassificationReport? b) =>
        doc.Paragraph(b == null ? "No baseline was trained (--no-baseline)." :
               $"The fine-tuned model's micro accuracy is {Format.Points(f.MicroAccuracy - b.MicroAccuracy)} points {(f.MicroAccuracy >= b.MicroAccuracy ? "above" : "below")} ML.NET's SDCA baseline trained on the same rows.")
           .Table(["model", "micro accuracy", "macro accuracy", "log-loss", "training time"],
                  new[] { f, b }.OfType<ClassificationReport>().Select(r => (IReadOnlyList<ReportCell>)
                      [r.Model, Format.Percent(r.MicroAccuracy), Format.Percent(r.MacroAccuracy), Format.Number(r.LogLoss, "0.000"), $"{r.TrainSeconds:0} s"]));

    static void Details(ReportDocument doc, ClassificationReport f, ClassificationReport? b, IReadOnlyList<WorstExample> worst)
    {
        doc.Heading("Per class")
           .Picture(ReportPlots.PerClassF1(f, b))
           .Table(["class", "rows", "precision", "recall", "F1", .. b != null ? new[] { "baseline F1" } : []],
                  f.PerClass.Select((c, i) => (IReadOnlyList<ReportCell>)
                      [c.Class, c.Support.ToString(CultureInfo.InvariantCulture), Format.Percent(c.Precision), Format.Percent(c.Recall), Format.Percent(c.F1),
                       .. b != null ? new ReportCell[] { Format.Percent(b.PerClass[i].F1) } : []]));

        doc.Heading("Confusion matrix").Picture(ReportPlots.Confusion(f.Classes, f.ConfusionMatrix));

        doc.Heading("Worst-classified examples");
        if (worst.Count == 0) doc.Paragraph("Every evaluated row was classified correctly.");
        else
            doc.Paragraph("The misclassified rows with the lowest probability on their true class.")
               .Table(["input", "true class", "predicted", "p(true)", "p(predicted)"],
                      worst.Select(w => (IReadOnlyList<ReportCell>)
                          [w.Input, w.TrueLabel, w.PredictedLabel, Format.Number(w.TrueProbability, "0.000"), Format.Number(w.PredictedProbability, "0.000")]));
    }

    static void CheckKnown(IReadOnlyList<string>? labels, IReadOnlyList<string> classes, string what)
    {
        if (labels == null) return;
        var unknown = labels.Distinct().Except(classes).Take(5).ToList();
        if (unknown.Count > 0)
            throw new UserError($"{what}: label(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} never occur in the training rows, so no model can predict them. " +
                                $"Training classes: {string.Join(", ", classes.Take(20).Select(c => $"'{c}'"))}{(classes.Count > 20 ? ", ..." : "")}.");
    }
}
