using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Training;
using static MLNet.FineTuning.Benchmarks.CommandArgs;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- determinism [--gpu ID]`: how far two runs with the same seed, and a run resumed from a checkpoint written in the
/// middle of an epoch, are from an uninterrupted run (issue 11: "document what varies on a GPU and by how much"). For
/// each estimator: three Fits with the same seed (one of them cancelled after step N and resumed from its checkpoint),
/// each scored on its training rows; printed are the largest score difference and the rows whose label differs. On
/// the CPU both must be 0 (the tests assert it); on CUDA, kernels that add in a varying order (cuDNN's convolution
/// backward, atomics) make the runs drift apart, and this says by how much.
/// </summary>
internal static class Determinism
{
    public const string Usage = "determinism [--gpu ID] [--kinds image,text] [--repo DIR]   (same seed twice, and resumed mid-epoch, against an uninterrupted run;\n" +
                                "  DIR holds samples/data/fashion-mnist/train and samples/data/spam-assassin/train.tsv, default the repository)";

    public static int Run(string[] args, string repoRoot, string command)
    {
        var kinds = (Value(args, "--kinds") ?? "image,text").Split(',');
        MLContext ml;
        string device = "cpu";
        if (Value(args, "--gpu") is { } id)
        {
            GpuSetup gpu;
            try { gpu = GpuSetup.Select(int.Parse(id), dryRun: false); }
            catch (InvalidOperationException e) { Console.Error.WriteLine(GpuSetup.Refusal(int.Parse(id), e)); return 2; }
            ml = gpu.CreateContext();
            device = gpu.Name;
        }
        else ml = new MLContext(seed: 1);
        Console.WriteLine($"Determinism, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {device}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"  {command}");
        using var tempFiles = TempFiles.For(ml);
        if (kinds.Contains("image"))
        {
            // 256 images in batches of 32: 8 steps an epoch; the cut after step 11 is in the middle of epoch 2.
            var data = BenchmarkData.Load(ml, Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), 256, 64);
            Compare("image: resnet18-mlnet pretrained, 64 px, batch 32, 256 images, 2 epochs, head dropout and augmentation at their defaults",
                    data.View, cancelAfterStep: 11, (progress, stop, checkpoint, resume) => new FineTuneImageClassifier(ml, new FineTuneImageClassifier.Options
                    {
                        ImageSize = 64, BatchSize = 32, Epochs = 2, Seed = 3, LogEveryNSteps = 1, Progress = progress, CancellationToken = stop,
                        CheckpointDirectory = checkpoint, ResumeFromCheckpoint = resume,
                    }).Fit(data.View));
        }
        if (kinds.Contains("text"))
        {
            var raw = ml.Data.LoadFromEnumerable(TextBenchmark.LoadRows(Path.Combine(repoRoot, "samples", "data", "spam-assassin", "train.tsv"), 64));
            var view = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
            // 64 e-mails in batches of 16: 4 steps an epoch; the cut after step 6 is in the middle of epoch 2.
            Compare("text: MiniLM-L6 + LoRA (defaults), 64 tokens, batch 16, 64 e-mails, 2 epochs", view, cancelAfterStep: 6,
                    (progress, stop, checkpoint, resume) => new LoraTextClassifier(ml, new LoraTextClassifier.Options
                    {
                        MaxSequenceLength = 64, BatchSize = 16, Epochs = 2, Seed = 3, LogEveryNSteps = 1, Progress = progress, CancellationToken = stop,
                        CheckpointDirectory = checkpoint, ResumeFromCheckpoint = resume,
                    }).Fit(view));
        }
        return 0;
    }

    /// <summary>fit(progress, cancellation, checkpoint folder, resume from) → a fitted transformer.</summary>
    private delegate ITransformer Fitter(IProgress<TrainingProgress>? progress, CancellationToken stop, string? checkpoint, string? resume);

    private static void Compare(string what, IDataView data, int cancelAfterStep, Fitter fit)
    {
        Console.WriteLine($"\n{what}");
        var reference = ScoresOf(fit(null, default, null, null), data);
        var again = ScoresOf(fit(null, default, null, null), data);
        Console.WriteLine($"  {"same seed twice:",-36}{Difference(reference, again)}");

        string checkpoint = Path.Combine(Path.GetTempPath(), $"mlnet-determinism-{Environment.ProcessId}");
        try
        {
            using var cts = new CancellationTokenSource();
            var stopAt = new ProgressLog(r => { if (!r.IsEpochEnd && r.Step == cancelAfterStep) cts.Cancel(); });
            try { fit(stopAt, cts.Token, checkpoint, null); throw new InvalidOperationException("the run ended before the cut"); }
            catch (OperationCanceledException) { }
            var resumed = ScoresOf(fit(null, default, null, checkpoint), data);
            Console.WriteLine($"  {$"cancelled after step {cancelAfterStep}, resumed:",-36}{Difference(reference, resumed)}");
        }
        finally { if (Directory.Exists(checkpoint)) Directory.Delete(checkpoint, recursive: true); }
    }

    private static float[][] ScoresOf(ITransformer model, IDataView data)
    {
        var scores = model.Transform(data).GetColumn<VBuffer<float>>("Score").Select(v => v.DenseValues().ToArray()).ToArray();
        (model as IDisposable)?.Dispose();
        return scores;
    }

    private static string Difference(float[][] a, float[][] b)
    {
        double largest = a.Zip(b).SelectMany(p => p.First.Zip(p.Second, (x, y) => (double)Math.Abs(x - y))).Max();
        int labels = a.Zip(b).Count(p => Array.IndexOf(p.First, p.First.Max()) != Array.IndexOf(p.Second, p.Second.Max()));
        return $"largest score difference {largest:G3}, labels differ on {labels} of {a.Length} rows";
    }
}
