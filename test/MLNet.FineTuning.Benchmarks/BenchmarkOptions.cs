using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>Command-line settings of one benchmark run.</summary>
internal sealed record BenchmarkOptions
{
    /// <summary>Network input side in pixels (both loops, inference too).</summary>
    public int ImageSize { get; init; } = 64;
    /// <summary>Training images, taken round-robin over the classes of the committed train split (with
    /// <see cref="Gpu"/>, cycled over it when more are asked for than it has).</summary>
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
    /// <summary>CUDA device of the GPU mode (<see cref="GpuImageBenchmark"/>); null for the CPU mode.</summary>
    public int? Gpu { get; init; }
    /// <summary>With <see cref="Gpu"/>: run the GPU mode's sections on the CPU, CPU-sized (checks the code paths).</summary>
    public bool GpuDryRun { get; init; }
    /// <summary>FineTuningOptions.Precision of every Fit; in the GPU mode Auto measures Float32 and BFloat16 side by side.</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Auto;
    /// <summary>The repository root holding samples/data; null: found above the program's folder.</summary>
    public string? Repo { get; init; }
    public bool Quick { get; init; }
    public string[] Arguments { get; init; } = [];

    /// <summary>True when the GPU mode runs GPU-sized (a real CUDA device, not a dry run).</summary>
    public bool GpuSized => Gpu != null && !GpuDryRun;

    public const string Usage =
        "usage: dotnet run -c Release --project test/MLNet.FineTuning.Benchmarks -- [options]\n" +
        "  --image-size N   network input side in pixels (default 64; 224 with --gpu)\n" +
        "  --images N       training images from samples/data/fashion-mnist/train (default 256; 3072 with --gpu, cycled over the committed images)\n" +
        "  --batch-size N   images per step, training and inference (default 32; 128 with --gpu)\n" +
        "  --threads N      torch.set_num_threads and ONNX Runtime intra-op threads (default: torch's)\n" +
        "  --leak-steps N   training steps of the leak check, batch 8 at 32 px (default 200; not with --gpu)\n" +
        "  --repeats N      timed runs of each variant, best counts (default 3; 2 with --gpu)\n" +
        "  --quick          tiny sizes for a smoke run (32 px, 64 images, batch 16, 20 leak steps, 1 repeat;\n" +
        "                   with --gpu: 224 px, 1024 images, batch 128, 1 repeat)\n" +
        "  --gpu ID         train and run TorchSharp on CUDA device ID (an error when there is none); ONNX Runtime stays on the CPU\n" +
        "  --precision P    auto (default: fp32 on the CPU, bf16 on CUDA; with --gpu both are measured), float32 or bfloat16\n" +
        "  --gpu-dry-run    with --gpu: run the GPU mode's sections on the CPU at CPU sizes, to check them (figures mean nothing)\n" +
        "  --repo PATH      repository root holding samples/data (default: found above the program's folder)";

    /// <summary>Parses the arguments; <c>--quick</c> and <c>--gpu</c> set defaults that explicit options still override.</summary>
    /// <exception cref="ArgumentException">Unknown option or bad value (the message names it).</exception>
    public static BenchmarkOptions Parse(string[] args)
    {
        bool quick = args.Contains("--quick"), gpuSized = args.Contains("--gpu") && !args.Contains("--gpu-dry-run");
        var o = (quick, gpuSized) switch
        {
            (true, false) => new BenchmarkOptions { Quick = true, ImageSize = 32, Images = 64, BatchSize = 16, LeakSteps = 20, Repeats = 1, WarmupSteps = 1 },
            (false, false) => new BenchmarkOptions(),
            // GPU-sized: the H200 trains ResNet-18 at about 4,800 img/s at 224 px, batch 128 (measured with eng/gpu/device-checks.sh), so an
            // epoch of 3072 images (24 steps) takes under a second; whole Fit calls, warm-ups and ONNX Runtime on the
            // CPU dominate the run, which stays near a minute (eng/gpu/device-checks.sh gives the step 100 s).
            (true, true) => new BenchmarkOptions { Quick = true, ImageSize = 224, Images = 1024, BatchSize = 128, Repeats = 1, WarmupSteps = 2 },
            (false, true) => new BenchmarkOptions { ImageSize = 224, Images = 3072, BatchSize = 128, Repeats = 2, WarmupSteps = 2 },
        };
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            if (name is "--quick") continue;
            if (name is "--gpu-dry-run") { o = o with { GpuDryRun = true }; continue; }
            string Text()
            {
                if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value.\n{Usage}");
                return args[++i];
            }
            int Value(int min = 1)
            {
                if (i + 1 >= args.Length || !int.TryParse(args[i + 1], out int v) || v < min)
                    throw new ArgumentException($"{name} needs a whole number ≥ {min}.\n{Usage}");
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
                "--gpu" => o with { Gpu = Value(min: 0) },
                "--precision" => o with { Precision = ParsePrecision(Text()) },
                "--repo" => o with { Repo = Text() },
                _ => throw new ArgumentException($"Unknown option '{name}'.\n{Usage}"),
            };
        }
        if (o.GpuDryRun && o.Gpu == null) throw new ArgumentException("--gpu-dry-run goes with --gpu ID.");
        if (o.ImageSize < 32) throw new ArgumentException($"--image-size must be at least 32 (a ResNet downsamples by 32); got {o.ImageSize}.");
        if (o.BatchSize < 2) throw new ArgumentException($"--batch-size must be at least 2 (BatchNorm trains); got {o.BatchSize}.");
        if (o.Images < 2 * o.BatchSize) throw new ArgumentException($"--images must be at least twice the batch size ({2 * o.BatchSize}); got {o.Images}.");
        return o with { Arguments = args };
    }

    /// <summary>auto, float32 or bfloat16 (the <see cref="TrainingPrecision"/> names, any case).</summary>
    public static TrainingPrecision ParsePrecision(string value) =>
        Enum.TryParse<TrainingPrecision>(value, ignoreCase: true, out var p) && Enum.IsDefined(p) && !int.TryParse(value, out _)
            ? p
            : throw new ArgumentException($"--precision must be auto, float32 or bfloat16; got '{value}'.");

    /// <summary>"fp32" or "bf16": the format a measured Fit ran in (Auto is resolved before it is measured).</summary>
    public static string ShortName(TrainingPrecision precision) => precision == TrainingPrecision.BFloat16 ? "bf16" : "fp32";

    /// <summary>What a precision means on a device: "auto (fp32 on the CPU)", "bfloat16", ...</summary>
    public static string Describe(TrainingPrecision precision, bool cuda) => precision switch
    {
        TrainingPrecision.Auto => cuda ? "auto (bf16 mixed precision on CUDA)" : "auto (fp32 on the CPU)",
        TrainingPrecision.Float32 => "float32",
        _ => "bfloat16 (mixed precision, fp32 master weights)",
    };
}
