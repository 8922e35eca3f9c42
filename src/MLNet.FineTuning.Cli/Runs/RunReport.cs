using System.Globalization;
using MLNet.FineTuning.Cli.Report;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// report.md and report.html of a run: the result beside the ML.NET baseline, the data, the training curves, the task's
/// sections (per class: figures, confusion matrix, worst-classified rows; per label; largest errors) and the options. Everything comes from what
/// the run also writes to finetune.json and metrics.json, plus the evaluated rows' scores.
/// </summary>
internal static class RunReport
{
    public static ReportDocument Build(RunRecord run, TaskOutcome outcome, int evaluatedRows, string evaluatedOn,
                                       IReadOnlyList<(long Step, double Rate)> rates, string? resumeNote)
    {
        var doc = new ReportDocument().Heading($"mlnet-finetune {run.Command} ({run.Task}): {run.Finished:yyyy-MM-dd HH:mm}", 1);
        doc.Heading("Result").Paragraph($"On {evaluatedRows} {evaluatedOn} rows.");
        outcome.Result(doc);

        doc.Heading("Data")
           .Paragraph($"{run.Data.TrainRows} training, {run.Data.ValidationRows} validation and {run.Data.TestRows} test rows; " +
                      $"{run.Data.Labels}; {run.Data.Inputs}.");
        if (outcome.DataPicture != null) doc.Picture(outcome.DataPicture);

        doc.Heading("Training");
        if (run.Epochs.Count == 0) doc.Paragraph("No epoch was recorded.");
        else
        {
            bool accuracy = run.Epochs.Any(e => double.IsFinite(e.TrainAccuracy));   // a regression or multi-label run has none
            doc.Picture(ReportPlots.PerEpoch("loss.png", "loss per epoch", "loss", [.. run.Epochs.Select(e => (e.Epoch, e.TrainLoss, e.ValidationLoss))]));
            if (accuracy) doc.Picture(ReportPlots.PerEpoch("accuracy.png", "accuracy per epoch", "accuracy", [.. run.Epochs.Select(e => (e.Epoch, e.TrainAccuracy, e.ValidationAccuracy))]));
            if (rates.Count > 1) doc.Picture(ReportPlots.LearningRate(rates));
            doc.Table(["epoch", "training loss", .. accuracy ? new[] { "training accuracy" } : [], "validation loss", .. accuracy ? new[] { "validation accuracy" } : [], "learning rate", "samples/s"],
                      run.Epochs.Select(e => (IReadOnlyList<ReportCell>)
                          [e.Epoch.ToString(CultureInfo.InvariantCulture), Format.Number(e.TrainLoss, "0.0000"), .. accuracy ? new ReportCell[] { Format.Percent(e.TrainAccuracy) } : [],
                           e.ValidationLoss is double vl ? Format.Number(vl, "0.0000") : "", .. accuracy ? new ReportCell[] { e.ValidationAccuracy is double va ? Format.Percent(va) : "" } : [],
                           Format.Number(e.LearningRate, "0.00e0"), Format.Number(e.SamplesPerSecond, "0")]));
            if (resumeNote != null) doc.Paragraph(resumeNote);
        }

        if (run.Search is { } search) AutomaticRecipe(doc, search);
        outcome.Details(doc);

        doc.Heading("Options")
           .Paragraph($"Every estimator option the model trained with ({run.Tool}; {string.Join(", ", run.Packages.Select(p => $"{p.Key} {p.Value}"))})" +
                      (run.Search == null
                          ? ". finetune.json holds them with the command line, and mlnet-finetune train --config finetune.json runs it again."
                          : ": the recipe the automatic recipe kept. finetune.json holds them with the command line, and mlnet-finetune train " +
                            "--config finetune.json trains that recipe again without a search (add --search-again to search anew)."))
           .Table(["option", "value"], run.Options.Select(o => (IReadOnlyList<ReportCell>)[o.Key, o.Value?.ToJsonString() ?? "(not set)"]));
        return doc;
    }

    /// <summary>What <c>--time-budget</c> tried, in order, and which run's model was kept.</summary>
    static void AutomaticRecipe(ReportDocument doc, SearchRecord search)
    {
        string range = search.SuggestedLearningRate is double rate
            ? $"The learning-rate range test suggested {Format.Number(rate, "0.0e0")}" + (search.RangeLossFellClearly == true
                ? ", a candidate rate beside the options' own. "
                : ", but its loss did not fall clearly, so only the options' rate was tried. ")
            : "The learning-rate range test stopped early: at its pace the budget held no trial beside the final run. ";
        string what = search.Trials.Count == 1
            ? $"So the options as given trained as the final run ({search.Seconds:F0} s in all). A search needs a budget of several " +
              "plain runs' length (a smaller image size or fewer rows make each run shorter)."
            : $"{search.Trials.Count} runs in {search.Seconds:F0} s{(search.CutShortByBudget ? ", cut short by the budget" : "")}; " +
              $"kept: {search.Kept.Recipe} ({search.Kept.Epochs} epochs). Each round trains the survivors of the last from the pretrained " +
              "weights and keeps the better half by validation (the first candidate is the options as given, which a challenger replaces " +
              "only by more than the validation rows' noise); the final run trains the winner for all the epochs. Validation is each run's " +
              "best epoch's accuracy, or its loss negated where the task watches the loss (regression, multi-label): higher is better.";
        doc.Heading("Automatic recipe")
           .Paragraph(range + what)
           .Table(["run", "settings", "round", "epochs", "validation", "seconds"],
                  search.Trials.Select((t, i) => (IReadOnlyList<ReportCell>)
                      [(i + 1).ToString(CultureInfo.InvariantCulture), t.Recipe, t.Round.ToString(CultureInfo.InvariantCulture), t.Epochs.ToString(CultureInfo.InvariantCulture),
                       t.Validation is double v ? Format.Number(v, "0.0000") : "(all rows)", Format.Number(t.Seconds, "0.0")]));
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

}
