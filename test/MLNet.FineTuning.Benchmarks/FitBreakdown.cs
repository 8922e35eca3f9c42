using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>Where Fit's time goes: its stages timed one by one with the library's own internals.</summary>
internal sealed record FitBreakdownResult(
    double ReadSeconds, double LoadWeightsSeconds, double ProduceImagesPerSecond, (double First, double Best) ProduceKeptImagesPerSecond,
    double LoopImageSourceImagesPerSecond, double LoopImageSourceWaitSeconds, double LoopImageSourceSeconds,
    double LoopTensorSourceImagesPerSecond, double ExportSeconds, double ScoringBuildSeconds);

/// <summary>
/// Fit = read and decode the IDataView (<see cref="ImageDataset"/>) → load the pretrained weights → the
/// training loop pulling batches from <see cref="ImageBatchSource"/> (background producer: shuffle, random
/// resized crop, flip) → ONNX export → the ML.NET scoring chain. Each is timed here on its own; the loop
/// twice, once with the real batch source (and the time it waits for batches) and once with pre-built
/// tensors, so that the data pipeline's share and the loop's own overhead separate.
/// </summary>
internal static class FitBreakdown
{
    public static FitBreakdownResult Run(MLContext ml, BenchmarkData data, BenchmarkOptions o,
        IReadOnlyList<(Tensor Images, Tensor Labels)> rawBatches, int repeats)
    {
        var options = FitBenchmark.FitOptions(o.ImageSize, o.BatchSize, null, o.Precision);
        var definition = PretrainedCatalog.GetImageBackbone(options.Backbone);
        var sw = Stopwatch.StartNew();
        var dataset = ImageDataset.Read(data.View, options.ImageColumnName, options.LabelColumnName,
            (long)options.ImageCacheMegabytes << 20, false, "training", default);
        double read = sw.Elapsed.TotalSeconds;

        sw.Restart();
        definition.CreatePretrained().Dispose();
        double load = sw.Elapsed.TotalSeconds;

        ImageBatchSource Source() => new(dataset, o.ImageSize, o.BatchSize, train: true, options.Seed, options.TrainingAugmentation);
        double produce = ProduceImagesPerSecond(Source, repeats);
        var produceKept = ProduceKeptImagesPerSecond(dataset, o.ImageSize, o.BatchSize, options, CPU, repeats);

        double bestImage = 0, bestImageWait = 0, bestImageSeconds = 0, bestTensor = 0;
        for (int r = 0; r < repeats; r++)
        {
            var timed = new TimedBatchSource(Source());
            var (rate, seconds, _) = Loop(data, definition, options, timed, CPU);
            if (rate > bestImage) (bestImage, bestImageWait, bestImageSeconds) = (rate, timed.WaitSeconds, seconds);
            bestTensor = Math.Max(bestTensor, Loop(data, definition, options, new TensorBatchSource(rawBatches), CPU).ImagesPerSecond);
        }

        manual_seed(options.Seed);
        var backbone = definition.CreatePretrained();
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, data.ClassNames.Length, options.HeadDropout));
        model.eval();
        sw.Restart();
        var onnx = ImageClassifierExporter.Export(model, definition.Preprocessing, o.ImageSize, data.ClassNames);
        double export = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var scoring = OnnxScoringChain.Fit(ml, data.View, ImageScoringPipeline.Input(ml, data.View.Schema, options.ImageColumnName, o.ImageSize),
            onnx, data.ClassNames, options.ScoreColumnName, options.PredictedLabelColumnName, null, true);
        double build = sw.Elapsed.TotalSeconds;
        (scoring as IDisposable)?.Dispose();
        return new FitBreakdownResult(read, load, produce, produceKept, bestImage, bestImageWait, bestImageSeconds, bestTensor, export, build);
    }

    /// <summary>The batch source's own rate (shuffle, random resized crop, flip; no training): the best of
    /// <paramref name="repeats"/> epochs.</summary>
    public static double ProduceImagesPerSecond(Func<ImageBatchSource> source, int repeats)
    {
        double produce = 0;
        for (int r = 0; r < repeats; r++)
        {
            long images = 0;
            var sw = Stopwatch.StartNew();
            foreach (var b in source().Batches(r, default)) { images += b.Count; b.Dispose(); }
            produce = Math.Max(produce, images / sw.Elapsed.TotalSeconds);
        }
        return produce;
    }

    /// <summary>The same source when it keeps the fixed pixels on <paramref name="device"/> (what <c>Fit</c> does with the
    /// default augmentation policy): the first epoch, which also makes them, and the best of the next
    /// <paramref name="repeats"/>, which gather them; synchronised with the device before the clock is read. Zero
    /// when the options change the images (nothing can be kept).</summary>
    public static (double First, double Best) ProduceKeptImagesPerSecond(ImageDataset dataset, int imageSize, int batchSize,
        FineTuneImageClassifier.Options options, Device device, int repeats)
    {
        if (!options.TrainingAugmentation.LeavesImagesAsTheyAre) return (0, 0);
        using var source = new ImageBatchSource(dataset, imageSize, batchSize, train: true, options.Seed, options.TrainingAugmentation,
            new PixelKeeping(device, (long)options.ImageCacheMegabytes << 20, null));
        double first = DataPath.Epoch(source, 0, device), best = 0;
        for (int r = 1; r <= repeats; r++) best = Math.Max(best, DataPath.Epoch(source, r, device));
        return source.KeepsPixels ? (first, best) : (0, 0);
    }

    /// <summary>One epoch of the library's <see cref="TrainingLoop"/> on a fresh pretrained model on
    /// <paramref name="device"/>; images per second from its epoch-end report, the epoch's seconds, and images per
    /// second from the step reports without the first step (each report reads the loss back: synchronised on CUDA).</summary>
    public static (double ImagesPerSecond, double Seconds, double StepImagesPerSecond) Loop(BenchmarkData data, ImageBackboneDefinition definition,
        FineTuneImageClassifier.Options options, IBatchSource source, Device device)
    {
        manual_seed(options.Seed);
        var backbone = definition.CreatePretrained();
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, data.ClassNames.Length, options.HeadDropout));
        var log = new ProgressLog();
        var withLog = options.Clone();
        withLog.Progress = log;
        var loop = new TrainingLoop(withLog, device, null, () => new JsonObject());
        loop.Run(new ImageFineTunable(model, definition.Preprocessing, options.FreezeBatchNormStatistics), source, null);
        var end = log.EpochEnds[^1];
        var perStep = FitBenchmark.ImagesPerStep((int)source.RowCount, options.BatchSize);
        double images = perStep.Sum();
        return (end.SamplesPerSecond, images / end.SamplesPerSecond, log.StepImagesPerSecond(perStep, Math.Min(1, perStep.Length - 1)));
    }

    /// <summary>Wraps a batch source and adds up the time the loop waits for each batch.</summary>
    private sealed class TimedBatchSource(IBatchSource inner) : IBatchSource
    {
        public double WaitSeconds { get; private set; }
        public long RowCount => inner.RowCount;

        public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
        {
            using var e = inner.Batches(epoch, cancellation).GetEnumerator();
            var sw = new Stopwatch();
            while (true)
            {
                sw.Restart();
                bool more = e.MoveNext();
                WaitSeconds += sw.Elapsed.TotalSeconds;
                if (!more) yield break;
                yield return e.Current;
            }
        }
    }

    /// <summary>Pre-built 0..255 pixel batches in a fixed order (no decoding, no augmentation); each batch is a
    /// copy (on the batches' device), because the loop disposes what it gets.</summary>
    internal sealed class TensorBatchSource(IReadOnlyList<(Tensor Images, Tensor Labels)> batches) : IBatchSource
    {
        public long RowCount => batches.Sum(b => b.Images.shape[0]);

        public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
        {
            foreach (var (x, y) in batches) yield return new Batch([x.clone()], y.clone());
        }
    }
}
