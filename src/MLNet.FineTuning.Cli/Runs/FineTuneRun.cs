using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Cli.Consumption;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Report;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// The one outline of a training command: read and split the data, fine-tune through an ML.NET pipeline, evaluate
/// it and an ML.NET-only baseline on the same rows, and write the output folder (model.zip, model.onnx,
/// metrics.json, finetune.json). Ctrl+C stops at the next step with a checkpoint that --resume continues from.
/// </summary>
internal static class FineTuneRun
{
    public static int Execute<TRow>(RunKind<TRow> kind, RunSettings settings) where TRow : class
    {
        var started = DateTimeOffset.Now;
        var output = OutputFolder.Prepare(settings.Output, settings.Force, settings.Resume);
        var ml = new MLContext(seed: settings.Seed);
        if (settings.Gpu is int gpu)
        {
            if (!TorchSharp.torch.cuda.is_available())
                throw new UserError($"--gpu {gpu}: TorchSharp sees no CUDA device. The tool carries the CPU libtorch; README \"Use the tool\" says how to run it with the CUDA backend.");
            ml.GpuDeviceId = gpu;
            ml.FallbackToCpu = true;   // ONNX Runtime scores on the CPU when its CUDA provider cannot load
        }

        // Data: training rows, validation rows (given, or a stratified seeded share of the training rows), test rows.
        var train = kind.DropUnreadable(kind.Read(ml, settings.Data, "--data"), "--data");
        IReadOnlyList<TRow>? valid = null;
        if (settings.Valid != null) valid = kind.DropUnreadable(kind.Read(ml, settings.Valid, "--valid"), "--valid");
        else if (settings.ValidationFraction > 0) (train, valid) = Split(train, kind.LabelOf, settings.ValidationFraction, settings.Seed);
        var test = settings.Test != null ? kind.DropUnreadable(kind.Read(ml, settings.Test, "--test"), "--test") : null;
        var classes = train.Select(kind.LabelOf).Distinct().Order(StringComparer.Ordinal).ToList();
        if (classes.Count < 2)
            throw new UserError($"--data: the training rows have one class ('{classes.Single()}'); a classifier needs at least two.");
        CheckKnownLabels(valid, kind.LabelOf, classes, settings.Valid != null ? "--valid" : "the validation share of --data");
        CheckKnownLabels(test, kind.LabelOf, classes, "--test");
        Console.WriteLine($"data: {train.Count} training, {valid?.Count ?? 0} validation, {test?.Count ?? 0} test rows; {classes.Count} classes; {kind.Describe(train)}");

        var trainView = ml.Data.LoadFromEnumerable(train);
        var evalRows = test ?? valid;
        string evaluatedOn = test != null ? "test" : valid != null ? "validation" : "training";
        if (evalRows == null) Console.WriteLine("note: no --test and no validation rows: metrics.json reports on the training rows, which says little about new data.");
        var evalView = ml.Data.LoadFromEnumerable(evalRows ?? train);

        // Fine-tune. The estimator reads its validation rows in its own input schema, so they go through the same
        // label mapping and input steps as the training rows (fitted on the training rows).
        var labelKey = ml.Transforms.Conversion.MapValueToKey("Label");
        var inputs = kind.Inputs(ml);
        var options = kind.Options;
        var progress = new ConsoleProgress(output.ProgressFile, output.CanResume);
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;   // a second Ctrl+C ends the process at once
            e.Cancel = true;
            Console.Error.WriteLine("stopping after this step; a checkpoint is saved for --resume (Ctrl+C again to abort at once)");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        options.Progress = progress;
        // The estimators' own notes (rows read, unreadable images skipped, trainable parameters, the recipe search's
        // choices) go to ML.NET's log, which a console program only shows when it listens.
        ml.Log += (_, e) =>
        {
            if (e.Kind is ChannelMessageKind.Info or ChannelMessageKind.Warning && e.Source is nameof(FineTuneImageClassifier) or nameof(LoraTextClassifier)
                && !e.RawMessage.StartsWith("epoch ", StringComparison.Ordinal))   // the epoch lines come through the progress reports
                progress.Note(e.RawMessage);
        };
        options.CancellationToken = cancel.Token;
        options.CheckpointDirectory = output.Checkpoint;
        options.ResumeFromCheckpoint = output.CanResume ? output.Checkpoint : null;
        if (settings.Resume && !output.CanResume)
            progress.Note("--resume: no checkpoint yet (the run stopped before its first epoch ended); starting from the first epoch");
        if (valid != null) options.ValidationSet = labelKey.Append(inputs).Fit(trainView).Transform(ml.Data.LoadFromEnumerable(valid));

        var watch = Stopwatch.StartNew();
        IEnumerable<ITransformer> fitted;
        try
        {
            fitted = progress.Run(() => labelKey.Append(inputs).Append(kind.FineTuner(ml)).Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(trainView));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        double trainSeconds = watch.Elapsed.TotalSeconds;
        // The saved model starts after the label mapping: a service scores rows without a label.
        using var model = new TransformerChain<ITransformer>([.. fitted.Skip(1)]);
        var fineTuned = fitted.OfType<FineTunedTransformer>().Single();
        var reportClasses = fineTuned.ClassNames;
        // Scored once, read twice: by ML.NET's evaluator and for the report's worst-classified rows.
        var scored = ml.Data.Cache(new TransformerChain<ITransformer>([.. fitted]).Transform(evalView), "Label", "Score", "PredictedLabel");
        var fineTunedReport = ClassificationReport.From("fine-tuned", ml.MulticlassClassification.Evaluate(scored, labelColumnName: "Label"), reportClasses, trainSeconds);
        Console.WriteLine($"fine-tuned: micro accuracy {fineTunedReport.MicroAccuracy:P1}, macro {fineTunedReport.MacroAccuracy:P1} on the {evaluatedOn} rows; trained in {trainSeconds:F0} s");

        ClassificationReport? baselineReport = null;
        if (!settings.NoBaseline)
        {
            // ML.NET alone on the same rows: the figure that says what fine-tuning bought.
            watch.Restart();
            using var baseline = labelKey.Append(kind.BaselineFeatures(ml)).AppendCacheCheckpoint(ml)
                .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
                .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel")).Fit(trainView);
            baselineReport = ClassificationReport.From("ML.NET baseline (SDCA maximum entropy)", Evaluate(ml, baseline, evalView), reportClasses, watch.Elapsed.TotalSeconds);
            Console.WriteLine($"baseline:   micro accuracy {baselineReport.MicroAccuracy:P1}, macro {baselineReport.MacroAccuracy:P1} ({watch.Elapsed.TotalSeconds:F0} s)");
        }

        // Outputs, each written to a temporary name and renamed into place.
        var zip = new MemoryStream();
        ml.Model.Save(model, trainView.Schema, zip);
        AtomicFile.Write(output.FilePath("model.zip"), zip.GetBuffer().AsSpan(0, (int)zip.Length), "ML.NET model");
        kind.SaveOnnx(fineTuned, output.Path);
        var metrics = new MetricsFile(evaluatedOn, evalRows?.Count ?? train.Count, reportClasses, fineTunedReport, baselineReport);
        metrics.Write(output.FilePath("metrics.json"));
        var record = RunRecord.Create(kind.Name, settings, options, new(train.Count, valid?.Count ?? 0, test?.Count ?? 0, classes, kind.Describe(train)),
                                      progress.Epochs, metrics, started, DateTimeOffset.Now, ml.GpuDeviceId);
        record.Write(output.FilePath("finetune.json"));
        var scores = scored.GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToList();
        int shown = 0;
        var worst = WorstExample.Pick(evalRows ?? train, scores, kind.LabelOf, reportClasses, row => kind.Example(row, $"example-{++shown}"), count: 12);
        var counts = classes.Select(c => train.Count(r => kind.LabelOf(r) == c)).ToList();
        RunReport.Write(RunReport.Build(record, metrics, counts, progress.Rates, worst, ResumeNote(output, progress)), output.Path, $"mlnet-finetune {kind.Name} report");
        ConsumptionProject.Write(output.Path, kind.Name, reportClasses, kind.ModelInputs((evalRows ?? train)[0]));
        // The run finished and its outputs are in place: the checkpoint (weights + optimizer state, several times the
        // model's size) is only needed to resume a stopped run.
        if (Directory.Exists(output.Checkpoint)) Directory.Delete(output.Checkpoint, recursive: true);
        File.Delete(output.ProgressFile);
        Console.WriteLine($"wrote {output.Path}: model.zip, model.onnx, metrics.json, finetune.json, report.html, report.md, {ConsumptionProject.Folder}/");
        return ExitCodes.Success;
    }

    static string? ResumeNote(OutputFolder output, ConsoleProgress progress) =>
        !output.CanResume ? null
        : progress.ResumedWithHistory ? "This run was stopped and resumed from its checkpoint; the curves cover the whole run, the epochs before the resume included."
        : "This run was resumed from a checkpoint whose earlier epochs were not recorded: the curves show the epochs trained after the resume only.";

    static MulticlassClassificationMetrics Evaluate(MLContext ml, ITransformer model, IDataView rows) =>
        ml.MulticlassClassification.Evaluate(model.Transform(rows), labelColumnName: "Label");

    /// <summary>Holds out <paramref name="fraction"/> of each class (seeded; at least one row stays in training).</summary>
    static (IReadOnlyList<TRow> Train, IReadOnlyList<TRow> Valid) Split<TRow>(IReadOnlyList<TRow> rows, Func<TRow, string> label, double fraction, int seed) where TRow : class
    {
        var random = new Random(seed);
        var train = new List<TRow>();
        var valid = new List<TRow>();
        foreach (var group in rows.GroupBy(label).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = group.ToArray();
            random.Shuffle(members);
            int held = Math.Min(members.Length - 1, (int)Math.Round(members.Length * fraction));
            valid.AddRange(members.Take(held));
            train.AddRange(members.Skip(held));
        }
        // Back to the input order, so that the training order depends on the data and the seed only.
        var order = new Dictionary<TRow, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < rows.Count; i++) order[rows[i]] = i;
        return ([.. train.OrderBy(r => order[r])], [.. valid.OrderBy(r => order[r])]);
    }

    static void CheckKnownLabels<TRow>(IReadOnlyList<TRow>? rows, Func<TRow, string> label, IReadOnlyList<string> classes, string what)
    {
        if (rows == null) return;
        var unknown = rows.Select(label).Distinct().Except(classes).Take(5).ToList();
        if (unknown.Count > 0)
            throw new UserError($"{what}: label(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))} never occur in the training rows, so no model can predict them. " +
                                $"Training classes: {string.Join(", ", classes.Take(20).Select(c => $"'{c}'"))}{(classes.Count > 20 ? ", ..." : "")}.");
    }
}
