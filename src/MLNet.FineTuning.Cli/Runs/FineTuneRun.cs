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
    public static int Execute<TRow>(RunKind<TRow> kind, RunTask task, RunSettings settings) where TRow : class
    {
        var started = DateTimeOffset.Now;
        OutputFolder.Check(settings.Output, settings.Force, settings.Resume);
        var ml = new MLContext(seed: settings.Seed);
        if (settings.Gpu is int gpu)
        {
            if (!TorchSharp.torch.cuda.is_available())
                throw new UserError($"--gpu {gpu}: TorchSharp sees no CUDA device. The tool carries the CPU libtorch; README \"Use the tool\" says how to run it with the CUDA backend.");
            ml.GpuDeviceId = gpu;
            ml.FallbackToCpu = true;   // ONNX Runtime scores on the CPU when its CUDA provider cannot load
        }

        // Data: training rows, validation rows (given, or a seeded share of the training rows, stratified by class for a
        // classifier), test rows. The labels of every split are checked before anything trains.
        var train = kind.DropUnreadable(kind.Read(settings.Data, "--data"), "--data");
        IReadOnlyList<TRow>? valid = null;
        if (settings.Valid != null) valid = kind.DropUnreadable(kind.Read(settings.Valid, "--valid"), "--valid");
        var test = settings.Test != null ? kind.DropUnreadable(kind.Read(settings.Test, "--test"), "--test") : null;
        var names = task.CheckLabels([.. train.Select(kind.LabelOf)], valid?.Select(kind.LabelOf).ToList(), "--valid", test?.Select(kind.LabelOf).ToList());
        if (valid == null && settings.ValidationFraction > 0) (train, valid) = Split(train, r => task.SplitKey(kind.LabelOf(r)), settings.ValidationFraction, settings.Seed);
        IReadOnlyList<string> trainLabels = [.. train.Select(kind.LabelOf)];
        if (valid != null) task.NoteValidation(trainLabels, [.. valid.Select(kind.LabelOf)]);
        string labels = task.DescribeLabels(names, trainLabels);
        Console.WriteLine($"data: {train.Count} training, {valid?.Count ?? 0} validation, {test?.Count ?? 0} test rows; {labels}; {kind.Describe(train)}");
        // The output folder is touched only once the data is read: a refused table or folder leaves it as it was.
        var output = OutputFolder.Prepare(settings.Output, settings.Force, settings.Resume);

        var trainView = ml.Data.LoadFromEnumerable(train);
        var evalRows = test ?? valid ?? train;
        string evaluatedOn = test != null ? "test" : valid != null ? "validation" : "training";
        if (test == null && valid == null) Console.WriteLine("note: no --test and no validation rows: metrics.json reports on the training rows, which says little about new data.");
        var evalView = ml.Data.LoadFromEnumerable(evalRows);

        // Fine-tune. The estimator reads its validation rows in its own input schema, so they go through the same
        // label mapping and input steps as the training rows (fitted on the training rows).
        var label = task.Label(ml);
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
        options.CancellationToken = cancel.Token;
        options.CheckpointDirectory = output.Checkpoint;
        options.ResumeFromCheckpoint = output.CanResume ? output.Checkpoint : null;
        if (settings.Resume && !output.CanResume)
            progress.Note("--resume: no checkpoint yet (the run stopped before its first epoch ended); starting from the first epoch");
        if (valid != null) options.ValidationSet = label.Append(inputs).Fit(trainView).Transform(ml.Data.LoadFromEnumerable(valid));
        // The estimator copies its options when it is made: made once, after every option above is set.
        var fineTuner = kind.FineTuner(ml);
        // The estimators' own notes (rows read, unreadable images skipped, trainable parameters, the recipe search's
        // choices, the thresholds) go to ML.NET's log, which a console program only shows when it listens.
        string estimator = fineTuner.GetType().Name;
        ml.Log += (_, e) =>
        {
            if (e.Kind is ChannelMessageKind.Info or ChannelMessageKind.Warning && e.Source == estimator
                && !e.RawMessage.StartsWith("epoch ", StringComparison.Ordinal))   // the epoch lines come through the progress reports
                progress.Note(e.RawMessage);
        };

        var watch = Stopwatch.StartNew();
        TransformerChain<ITransformer> fitted;
        try
        {
            fitted = progress.Run(() => label.Append(inputs).Append(fineTuner).Append(task.Output(ml)).Fit(trainView));
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        double trainSeconds = watch.Elapsed.TotalSeconds;
        // The saved model starts after the label mapping: a service scores rows without a label.
        using var model = new TransformerChain<ITransformer>([.. fitted.Skip(1)]);
        var fineTuned = fitted.OfType<FineTunedTransformer>().Single();
        var outcome = task.Evaluate(new EvaluationInput<TRow>(ml, kind, fitted, fineTuned, label, trainView, evalView, evalRows, train, names,
                                                                evaluatedOn, !settings.NoBaseline, trainSeconds));
        Console.WriteLine($"fine-tuned: {Headline(outcome.Headline)} on the {evaluatedOn} rows; trained in {trainSeconds:F0} s");
        if (outcome.BaselineHeadline != null) Console.WriteLine($"baseline:   {Headline(outcome.BaselineHeadline)}");

        // Outputs, each written to a temporary name and renamed into place.
        var zip = new MemoryStream();
        ml.Model.Save(model, trainView.Schema, zip);
        AtomicFile.Write(output.FilePath("model.zip"), zip.GetBuffer().AsSpan(0, (int)zip.Length), "ML.NET model");
        kind.SaveOnnx(fineTuned, output.Path);
        new MetricsFile(task.Name, evaluatedOn, evalRows.Count, fineTuned.ClassNames, outcome.FineTuned, outcome.Baseline).Write(output.FilePath("metrics.json"));
        var record = RunRecord.Create(kind.Name, task.Name, settings, options, new(train.Count, valid?.Count ?? 0, test?.Count ?? 0, names, labels, kind.Describe(train)),
                                      progress.Epochs, fineTuned.RecipeSearch, evaluatedOn, outcome, started, DateTimeOffset.Now, ml.GpuDeviceId);
        record.Write(output.FilePath("finetune.json"));
        RunReport.Write(RunReport.Build(record, outcome, evalRows.Count, evaluatedOn, progress.Rates, ResumeNote(output, progress)), output.Path,
                        $"mlnet-finetune {kind.Name} report");
        ConsumptionProject.Write(output.Path, kind.Name, task.ConsumptionOutput(fineTuned.ClassNames), kind.ModelInputs(evalRows[0]));
        // The run finished and its outputs are in place: the checkpoint (weights + optimizer state, several times the
        // model's size) is only needed to resume a stopped run.
        if (Directory.Exists(output.Checkpoint)) Directory.Delete(output.Checkpoint, recursive: true);
        File.Delete(output.ProgressFile);
        Console.WriteLine($"wrote {output.Path}: model.zip, model.onnx, metrics.json, finetune.json, report.html, report.md, {ConsumptionProject.Folder}/");
        return ExitCodes.Success;
    }

    static string Headline(IReadOnlyDictionary<string, double> figures) =>
        string.Join(", ", figures.Select(f => $"{f.Key} {(f.Key.Contains("accuracy") || f.Key.Contains("F1") || f.Key.Contains("match") ? f.Value.ToString("P1") : f.Value.ToString("G4"))}"));

    static string? ResumeNote(OutputFolder output, ConsoleProgress progress) =>
        !output.CanResume ? null
        : progress.ResumedWithHistory ? "This run was stopped and resumed from its checkpoint; the curves cover the whole run, the epochs before the resume included."
        : "This run was resumed from a checkpoint whose earlier epochs were not recorded: the curves show the epochs trained after the resume only.";

    /// <summary>Holds out <paramref name="fraction"/> of each group (seeded; at least one row of each stays in training).</summary>
    static (IReadOnlyList<TRow> Train, IReadOnlyList<TRow> Valid) Split<TRow>(IReadOnlyList<TRow> rows, Func<TRow, string> group, double fraction, int seed) where TRow : class
    {
        var random = new Random(seed);
        var train = new List<TRow>();
        var valid = new List<TRow>();
        foreach (var part in rows.GroupBy(group).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var members = part.ToArray();
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
}
