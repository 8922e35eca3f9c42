using System.Globalization;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Runs;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>
/// report.md and report.html of a run: the result beside the ML.NET baseline, the data, the training curves, the
/// per-class figures, the confusion matrix, the worst-classified examples and the options. Everything comes from what
/// the run also writes to finetune.json and metrics.json, plus the evaluated rows' scores.
/// </summary>
internal static class RunReport
{
    public static ReportDocument Build(RunRecord run, MetricsFile metrics, IReadOnlyList<int> classCounts,
                                       IReadOnlyList<(long Step, double Rate)> rates, IReadOnlyList<WorstExample> worst, string? resumeNote)
    {
        var doc = new ReportDocument().Heading($"mlnet-finetune {run.Command}: {run.Finished:yyyy-MM-dd HH:mm}", 1);
        var f = metrics.FineTuned;
        var b = metrics.Baseline;

        doc.Heading("Result")
           .Paragraph($"On {metrics.Rows} {metrics.EvaluatedOn} rows. " + (b == null ? "No baseline was trained (--no-baseline)." :
               $"The fine-tuned model's micro accuracy is {Points(f.MicroAccuracy - b.MicroAccuracy)} points {(f.MicroAccuracy >= b.MicroAccuracy ? "above" : "below")} ML.NET's SDCA baseline trained on the same rows."))
           .Table(["model", "micro accuracy", "macro accuracy", "log-loss", "training time"],
                  new[] { f, b }.OfType<ClassificationReport>().Select(r => (IReadOnlyList<ReportCell>)
                      [r.Model, Percent(r.MicroAccuracy), Percent(r.MacroAccuracy), Number(r.LogLoss, "0.000"), $"{r.TrainSeconds:0} s"]));

        doc.Heading("Data")
           .Paragraph($"{run.Data.TrainRows} training, {run.Data.ValidationRows} validation and {run.Data.TestRows} test rows; " +
                      $"{run.Data.Classes.Count} classes; {run.Data.Inputs}.")
           .Picture(ReportPlots.ClassCounts(run.Data.Classes, classCounts));

        doc.Heading("Training");
        if (run.Epochs.Count == 0) doc.Paragraph("No epoch was recorded.");
        else
        {
            doc.Picture(ReportPlots.PerEpoch("loss.png", "loss per epoch", "cross-entropy", run.Epochs, e => e.TrainLoss, e => e.ValidationLoss))
               .Picture(ReportPlots.PerEpoch("accuracy.png", "accuracy per epoch", "accuracy", run.Epochs, e => e.TrainAccuracy, e => e.ValidationAccuracy));
            if (rates.Count > 1) doc.Picture(ReportPlots.LearningRate(rates));
            doc.Table(["epoch", "training loss", "training accuracy", "validation loss", "validation accuracy", "learning rate", "samples/s"],
                      run.Epochs.Select(e => (IReadOnlyList<ReportCell>)
                          [e.Epoch.ToString(CultureInfo.InvariantCulture), Number(e.TrainLoss, "0.0000"), Percent(e.TrainAccuracy),
                           e.ValidationLoss is double vl ? Number(vl, "0.0000") : "", e.ValidationAccuracy is double va ? Percent(va) : "",
                           Number(e.LearningRate, "0.00e0"), Number(e.SamplesPerSecond, "0")]));
            if (resumeNote != null) doc.Paragraph(resumeNote);
        }

        doc.Heading("Per class")
           .Picture(ReportPlots.PerClassF1(f, b))
           .Table(["class", "rows", "precision", "recall", "F1", .. b != null ? new[] { "baseline F1" } : []],
                  f.PerClass.Select((c, i) => (IReadOnlyList<ReportCell>)
                      [c.Class, c.Support.ToString(CultureInfo.InvariantCulture), Percent(c.Precision), Percent(c.Recall), Percent(c.F1),
                       .. b != null ? new ReportCell[] { Percent(b.PerClass[i].F1) } : []]));

        doc.Heading("Confusion matrix").Picture(ReportPlots.Confusion(f.Classes, f.ConfusionMatrix));

        doc.Heading("Worst-classified examples");
        if (worst.Count == 0) doc.Paragraph("Every evaluated row was classified correctly.");
        else
            doc.Paragraph("The misclassified rows with the lowest probability on their true class.")
               .Table(["input", "true class", "predicted", "p(true)", "p(predicted)"],
                      worst.Select(w => (IReadOnlyList<ReportCell>)
                          [w.Input, w.TrueLabel, w.PredictedLabel, Number(w.TrueProbability, "0.000"), Number(w.PredictedProbability, "0.000")]));

        doc.Heading("Options")
           .Paragraph($"Every estimator option the run trained with ({run.Tool}; {string.Join(", ", run.Packages.Select(p => $"{p.Key} {p.Value}"))}). " +
                      "finetune.json holds them with the command line, and mlnet-finetune train --config finetune.json runs it again.")
           .Table(["option", "value"], run.Options.Select(o => (IReadOnlyList<ReportCell>)[o.Key, o.Value?.ToJsonString() ?? "(not set)"]));
        return doc;
    }

    /// <summary>Writes report.md, the pictures it links under report/, and the self-contained report.html.</summary>
    public static void Write(ReportDocument doc, string folder, string title)
    {
        var pictures = doc.Blocks.SelectMany(b => b switch
        {
            PictureBlock p => [p.Picture],
            TableBlock t => t.Rows.SelectMany(r => r).Select(c => c.Picture).OfType<ReportPicture>(),
            _ => [],
        });
        var pictureFolder = Path.Combine(folder, MarkdownRenderer.PictureFolder);
        Directory.CreateDirectory(pictureFolder);
        foreach (var p in pictures) AtomicFile.Write(Path.Combine(pictureFolder, p.FileName), p.Png, "report picture");
        AtomicFile.Write(Path.Combine(folder, "report.md"), System.Text.Encoding.UTF8.GetBytes(MarkdownRenderer.Render(doc)), "report");
        AtomicFile.Write(Path.Combine(folder, "report.html"), System.Text.Encoding.UTF8.GetBytes(HtmlRenderer.Render(doc, title)), "report");
    }

    static string Percent(double v) => double.IsFinite(v) ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + " %" : "–";
    static string Points(double v) => Math.Abs(100 * v).ToString("0.0", CultureInfo.InvariantCulture);
    static string Number(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
}
