using System.Diagnostics;
using Microsoft.ML;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>A timed <see cref="FineTuneImageClassifier.Fit"/>: the whole call, and the training phase as its progress reports give it.</summary>
internal sealed record FitRun(double WholeSeconds, double TrainImagesPerSecond, double EpochEndImagesPerSecond, double[] StepSeconds, int Images)
{
    public double WholeImagesPerSecond => Images / WholeSeconds;
}

/// <summary>
/// Part 1: one epoch of <c>FineTuneImageClassifier.Fit</c> on an IDataView against a hand-written TorchSharp
/// loop over pre-built tensors of the same images: same backbone (resnet18-mlnet, pretrained), head, image
/// size, batch size and AdamW settings (the library's defaults: head and backbone rates, decay 0.01 on
/// weight matrices and kernels only).
/// </summary>
internal static class FitBenchmark
{
    /// <summary>Fit's settings: library defaults (augmentation on, warm-up cosine schedule) except one epoch,
    /// no validation and no gradient clipping, which the plain loop does not do either; a report every step (on CUDA
    /// each report reads the loss back, so every step's time is the device's, synchronised).</summary>
    public static FineTuneImageClassifier.Options FitOptions(int imageSize, int batchSize, IProgress<TrainingProgress>? progress,
        TrainingPrecision precision = TrainingPrecision.Auto) => new()
    {
        Epochs = 1, BatchSize = batchSize, ImageSize = imageSize, GradientClipNorm = 0, LogEveryNSteps = 1, Progress = progress,
        Precision = precision,
    };

    /// <summary>Runs Fit once on the first <paramref name="images"/> rows and returns its timings; the fitted
    /// transformer goes to <paramref name="keep"/> when given, otherwise it is disposed. The training-phase figure
    /// leaves out the first <paramref name="skipFirst"/> steps; <paramref name="precision"/> replaces <c>--precision</c>.
    /// <paramref name="channelsLast"/> sets <c>ChannelsLast</c> (in a dry run on the CPU too, to run its code).</summary>
    public static FitRun RunFit(MLContext ml, BenchmarkData data, BenchmarkOptions o, int images, Action<FineTuneImageClassifierTransformer>? keep = null,
        TrainingPrecision? precision = null, int skipFirst = 0, bool channelsLast = false)
    {
        var view = images >= data.Count ? data.View : ml.Data.TakeRows(data.View, images);
        var log = new ProgressLog();
        var options = FitOptions(o.ImageSize, o.BatchSize, log, precision ?? o.Precision);
        options.ChannelsLast = options.ChannelsLastOnTheCpu = channelsLast;
        var estimator = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options);
        var sw = Stopwatch.StartNew();
        var model = estimator.Fit(view);
        double whole = sw.Elapsed.TotalSeconds;
        if (keep != null) keep(model); else model.Dispose();
        var perStep = ImagesPerStep(Math.Min(images, data.Count), o.BatchSize);
        return new FitRun(whole, log.StepImagesPerSecond(perStep, Math.Min(skipFirst, perStep.Length - 1)), log.EpochEnds[^1].SamplesPerSecond, log.StepSeconds(perStep), perStep.Sum());
    }

    /// <summary>One epoch of the plain loop (<see cref="PlainLoop"/>) on a fresh model and optimizer, as Fit has.
    /// Returns images per second of the loop alone (model loading excluded; the first <paramref name="skipFirst"/> steps
    /// too) and the seconds of each step. On CUDA the batches are on the device already and each step is synchronised.</summary>
    public static (double ImagesPerSecond, double[] StepSeconds) RunPlain(BenchmarkData data, IReadOnlyList<(Tensor Images, Tensor Labels)> batches,
        int maxSteps = int.MaxValue, GpuSetup? gpu = null, int skipFirst = 0, Action<PlainLoop>? done = null)
    {
        using var plain = new PlainLoop(data.ClassNames.Length, gpu);
        var taken = batches.Take(maxSteps).ToArray();
        var steps = taken.Select(b => plain.Step(b.Images, b.Labels)).ToArray();
        int skip = Math.Min(skipFirst, steps.Length - 1);
        done?.Invoke(plain);
        return (taken.Skip(skip).Sum(b => b.Images.shape[0]) / steps.Skip(skip).Sum(), steps);
    }

    /// <summary>
    /// Fit and the plain loop step by step, side by side: after each step of Fit (its progress report, which
    /// its step timer does not count) the plain loop does one step on the same-sized batch. Each pair runs
    /// within a second or two of itself, so load from other processes on a shared machine hits both alike;
    /// the median of the per-pair ratios is the steadiest figure of the three.
    /// </summary>
    public static (double[] FitSteps, double[] PlainSteps) RunPaired(MLContext ml, BenchmarkData data, BenchmarkOptions o,
        IReadOnlyList<(Tensor Images, Tensor Labels)> plainBatches)
    {
        using var plain = new PlainLoop(data.ClassNames.Length);
        var plainSteps = new List<double>();
        var log = new ProgressLog(p =>
        {
            if (p.IsEpochEnd) return;
            var (x, y) = plainBatches[(int)((p.Step - 1) % plainBatches.Count)];
            plainSteps.Add(plain.Step(x, y));
        });
        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(FitOptions(o.ImageSize, o.BatchSize, log, o.Precision)).Fit(data.View);
        return (log.StepSeconds(ImagesPerStep(data.Count, o.BatchSize)), plainSteps.ToArray());
    }

    /// <summary>The median of the step times of full batches (the last, partial batch left out): a figure that
    /// one slow step on a shared machine does not move.</summary>
    public static double MedianFullStep(IEnumerable<double[]> runs, int images, int batchSize)
    {
        var full = FullSteps(runs, images, batchSize);
        return full.Length == 0 ? double.NaN : full[full.Length / 2];
    }

    /// <summary>The fastest step of a full batch: on a shared machine, other work only ever slows a step down,
    /// so the fastest one is the closest to the code's own cost.</summary>
    public static double FastestFullStep(IEnumerable<double[]> runs, int images, int batchSize)
    {
        var full = FullSteps(runs, images, batchSize);
        return full.Length == 0 ? double.NaN : full[0];
    }

    private static double[] FullSteps(IEnumerable<double[]> runs, int images, int batchSize)
    {
        var perStep = ImagesPerStep(images, batchSize);
        return runs.SelectMany(r => r.Where((_, i) => i < perStep.Length && perStep[i] == batchSize)).Order().ToArray();
    }

    /// <summary>Images in each training step of an epoch over <paramref name="rows"/> rows (a last batch of one is dropped).</summary>
    public static int[] ImagesPerStep(int rows, int batchSize)
    {
        var steps = new List<int>();
        for (int start = 0; start < rows; start += batchSize)
        {
            int n = Math.Min(batchSize, rows - start);
            if (n > 1) steps.Add(n);
        }
        return steps.ToArray();
    }
}
