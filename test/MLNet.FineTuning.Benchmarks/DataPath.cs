using Microsoft.ML;
using MLNet.FineTuning.Data;
using static MLNet.FineTuning.Benchmarks.CommandArgs;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- data-path` (issue 10, "the data path alone"): how fast <see cref="ImageBatchSource"/> delivers training batches to
/// the device, without a network. Two ways, interleaved, on the same decoded images: resampled on the CPU every epoch
/// (what a crop, flip or photometric policy needs) and copied to the device, and gathered from the pixels kept on the
/// device (what <c>Fit</c> does when training leaves the images as they are: the default policy). Each figure is the
/// best epoch of <c>--repeats</c>, timed from a waited-for device to a waited-for device; the first kept epoch, which
/// also makes the pixels, is printed on its own.
/// </summary>
internal static class DataPath
{
    public const string Usage = "data-path [--images 3072] [--image-size 224] [--batch-size 128] [--repeats 3] [--gpu ID]\n" +
                                "  the committed Fashion-MNIST training images, cycled to --images; on the CPU without --gpu";

    public static int Run(string[] args, string repoRoot, string command)
    {
        int images = Int(args, "--images", 3072), size = Int(args, "--image-size", 224), batch = Int(args, "--batch-size", 128), repeats = Int(args, "--repeats", 3);
        var device = Value(args, "--gpu") is { } id ? Training.TrainingDevice.Select(int.Parse(id), fallbackToCpu: false) : CPU;
        var ml = new MLContext(1);
        var data = BenchmarkData.Load(ml, Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), images, size, cycle: true, centreCrops: false);
        var options = FitBenchmark.FitOptions(size, batch, null);
        var dataset = ImageDataset.Read(data.View, options.ImageColumnName, options.LabelColumnName, long.MaxValue, false, "training", default);
        long keptBytes = 3L * size * size * data.Count;
        Console.WriteLine($"data path: {data.Count} images ({data.Distinct} distinct, 28 px), {size} px, batch {batch}, on {device}; " +
                          $"{Environment.ProcessorCount} cores; kept pixels {keptBytes >> 20} MiB");

        using var kept = new ImageBatchSource(dataset, size, batch, train: true, options.Seed, options.TrainingAugmentation,
            new PixelKeeping(device, long.MaxValue, null));
        double first = Epoch(kept, 0, device), bestKept = 0, bestResampled = 0;
        for (int r = 1; r <= repeats; r++)
        {
            using var resampled = new ImageBatchSource(dataset, size, batch, train: true, options.Seed, options.TrainingAugmentation);
            double a = Epoch(resampled, r, device), b = Epoch(kept, r, device);
            Console.WriteLine($"  epoch {r}: resampled on the CPU and copied {a,9:F0} img/s, gathered on {device} {b,9:F0} img/s");
            (bestResampled, bestKept) = (Math.Max(bestResampled, a), Math.Max(bestKept, b));
        }
        Console.WriteLine($"| figure ({DateTime.UtcNow:yyyy-MM-dd}, {device}, {size} px, batch {batch}) | img/s |");
        Console.WriteLine("|---|---|");
        Console.WriteLine($"| resampled on the CPU every epoch, copied to the device | {bestResampled:F0} |");
        Console.WriteLine($"| pixels kept on the device, gathered (Fit's default policy) | {bestKept:F0} ({bestKept / bestResampled:F1}×) |");
        Console.WriteLine($"| first kept epoch (making the pixels, then gathering) | {first:F0} |");
        Console.WriteLine($"command: {command}");
        return kept.KeepsPixels ? 0 : 1;
    }

    /// <summary>Images per second of one epoch's batches, each on the device (moved there when the source made it on the
    /// host), timed from a waited-for device to a waited-for device.</summary>
    internal static double Epoch(ImageBatchSource source, int epoch, Device device)
    {
        long images = 0;
        Sync(device);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (var b in source.Batches(epoch, default))
        {
            using (b)
            using (var onDevice = b.Inputs[0].to(device))
                images += b.Count;
        }
        Sync(device);
        return images / sw.Elapsed.TotalSeconds;
    }

    private static void Sync(Device device)
    {
        if (device.type == TorchSharp.DeviceType.CUDA) cuda.synchronize(device);
    }
}
