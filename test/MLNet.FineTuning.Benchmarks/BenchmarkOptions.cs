namespace MLNet.FineTuning.Benchmarks;

/// <summary>Command-line settings of one benchmark run.</summary>
internal sealed record BenchmarkOptions
{
    /// <summary>Network input side in pixels (both loops, inference too).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Training images, taken round-robin over the classes of the committed train split.</summary>
    public int Images { get; init; } = 256;
    public int BatchSize { get; init; } = 32;
    /// <summary>torch.set_num_threads and ONNX Runtime's intra-op threads; null keeps torch's default.</summary>
    public int? Threads { get; init; }
    /// <summary>Training steps of the leak check (batch <see cref="LeakBatchSize"/>, <see cref="LeakImageSize"/> px).</summary>
    public int LeakSteps { get; init; } = 200;
    public int LeakBatchSize { get; init; } = 8;
    public int LeakImageSize { get; init; } = 32;
    /// <summary>Timed runs of each variant; the best counts (the machine is shared and noisy).</summary>
    public int Repeats { get; init; } = 3;
    /// <summary>Steps of each warm-up run.</summary>
    public int WarmupSteps { get; init; } = 2;
    public bool Quick { get; init; }
    public string[] Arguments { get; init; } = [];

    public const string Usage =
        "usage: dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- [options]\n" +
        "  --image-size N   network input side in pixels (default 64)\n" +
        "  --images N       training images from samples/data/fashion-mnist/train (default 256)\n" +
        "  --batch-size N   images per step, training and inference (default 32)\n" +
        "  --threads N      torch.set_num_threads and ONNX Runtime intra-op threads (default: torch's)\n" +
        "  --leak-steps N   training steps of the leak check, batch 8 at 32 px (default 200)\n" +
        "  --repeats N      timed runs of each variant, best counts (default 3)\n" +
        "  --quick          tiny sizes for a smoke run (32 px, 64 images, batch 16, 20 leak steps, 1 repeat)";

    /// <summary>Parses the arguments; <c>--quick</c> sets small defaults that later options still override.</summary>
    /// <exception cref="ArgumentException">Unknown option or bad value (the message names it).</exception>
    public static BenchmarkOptions Parse(string[] args)
    {
        var o = args.Contains("--quick")
            ? new BenchmarkOptions { Quick = true, ImageSize = 32, Images = 64, BatchSize = 16, LeakSteps = 20, Repeats = 1, WarmupSteps = 1 }
            : new BenchmarkOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name == "--quick") continue;
            int Value()
            {
                if (i + 1 >= args.Length || !int.TryParse(args[i + 1], out int v) || v < 1)
                    throw new ArgumentException($"{name} needs a positive whole number.\n{Usage}");
                i++;
                return v;
            }
            o = name switch
            {
                "--image-size" => o with { ImageSize = Value() },
                "--images" => o with { Images = Value() },
                "--batch-size" => o with { BatchSize = Value() },
                "--threads" => o with { Threads = Value() },
                "--leak-steps" => o with { LeakSteps = Value() },
                "--repeats" => o with { Repeats = Value() },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }
        if (o.ImageSize < 32) throw new ArgumentException($"--image-size must be at least 32 (a ResNet downsamples by 32); got {o.ImageSize}.");
        if (o.BatchSize < 2) throw new ArgumentException($"--batch-size must be at least 2 (BatchNorm trains); got {o.BatchSize}.");
        if (o.Images < 2 * o.BatchSize) throw new ArgumentException($"--images must be at least twice the batch size ({2 * o.BatchSize}); got {o.Images}.");
        return o with { Arguments = args };
    }
}
