using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.ML;
using MLNet.FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// Where the GPU mode of both benchmarks runs (<c>--gpu ID</c>): the training device, the context Fit gets, how a
/// timed section waits for the device, and how much device memory is in use.
/// </summary>
/// <param name="Device">cuda:ID, or the CPU in a dry run (<c>--gpu-dry-run</c>).</param>
/// <param name="GpuDeviceId">What <c>MLContext.GpuDeviceId</c> is set to: always the requested ID, so that a dry run
/// takes the same ML.NET paths (ONNX Runtime's CUDA provider is tried and falls back to the CPU).</param>
internal sealed record GpuSetup(Device Device, int GpuDeviceId, bool DryRun)
{
    public bool IsCuda => Device.type == DeviceType.CUDA;

    /// <summary>The device for <c>--gpu <paramref name="id"/></c>. Outside a dry run a missing CUDA device is an error
    /// (the library's own check with <c>FallbackToCpu = false</c>), never a silent CPU run.</summary>
    /// <exception cref="InvalidOperationException">No such CUDA device (the message says why).</exception>
    public static GpuSetup Select(int id, bool dryRun) =>
        dryRun ? new GpuSetup(CPU, id, true) : new GpuSetup(TrainingDevice.Select(id, fallbackToCpu: false), id, false);

    /// <summary>The message for a <c>--gpu</c> run without that CUDA device: the benchmark never falls back to the CPU,
    /// whose figures it would then print as the GPU's.</summary>
    public static string Refusal(int id, InvalidOperationException e) =>
        $"--gpu {id}: {e.Message}\nThe benchmark does not fall back to the CPU. On a machine with an NVIDIA GPU, run a build whose " +
        "TorchSharp binds to a CUDA libtorch (eng/gpu/pack.sh); to check the GPU mode's code paths on the CPU, add --gpu-dry-run.";

    /// <summary>Says, in the header, why ONNX Runtime may print "Failed to load library libonnxruntime_providers_cuda.so".</summary>
    public const string OnnxRuntimeNote =
        "  (Fit builds ML.NET's scoring chain with GpuDeviceId set: ONNX Runtime tries its CUDA provider and, where that is absent, " +
        "logs a load error and falls back to the CPU; training runs on the device above either way, checked from Fit's log)";

    /// <summary>
    /// The context every Fit of the GPU mode gets. <c>FallbackToCpu</c> is true on purpose: the device was checked by
    /// <see cref="Select"/> already (so training cannot fall back), but Fit also builds ML.NET's ONNX scoring chain with
    /// the same <c>GpuDeviceId</c>, and where ONNX Runtime's CUDA provider is absent (the GPU machine has only the
    /// CPU provider) ML.NET would otherwise refuse to build it.
    /// </summary>
    public MLContext CreateContext() => new(seed: 1) { GpuDeviceId = GpuDeviceId, FallbackToCpu = true };

    /// <summary>The kernel choices <c>Fit</c> makes while it trains on CUDA (cuDNN's autotuner, TF32), for the whole
    /// benchmark: the plain loop and the inference runs then choose their kernels as Fit and the PyTorch peer do.
    /// Nothing on the CPU (a dry run).</summary>
    public IDisposable? KernelChoices() => CudaKernelChoices.ForTraining(Device, allowTf32: true, line => Console.WriteLine("  " + line));

    /// <summary>Waits for every kernel queued on the device (CUDA runs asynchronously: a clock read before this
    /// measures the launches, not the work). Nothing to wait for on the CPU.</summary>
    public void Synchronize()
    {
        if (IsCuda) cuda.synchronize(Device);
    }

    /// <summary>Items per second of <paramref name="pass"/>: one untimed pass (kernels, cuDNN's or ONNX Runtime's algorithm
    /// choices, the caching allocator), then the best of at least three, each timed from a waited-for device to a
    /// waited-for device.</summary>
    public double BestRate(int items, int repeats, Action pass)
    {
        pass();
        double best = 0;
        for (int r = 0; r < Math.Max(3, repeats); r++)
        {
            Synchronize();
            var sw = Stopwatch.StartNew();
            pass();
            Synchronize();
            best = Math.Max(best, items / sw.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>"cuda:0", or "cpu (dry run of --gpu 0)".</summary>
    public string Name => DryRun ? $"cpu (dry run of --gpu {GpuDeviceId}: the GPU sections on the CPU, figures mean nothing)" : Device.ToString();

    /// <summary>What libtorch allows on CUDA (TF32 in convolutions and matrix products, cuDNN's autotuner), for the header.</summary>
    public string Backends()
    {
        if (!IsCuda) return "";
        try { return $", TF32: cuDNN {backends.cudnn.allow_tf32}, matmul {backends.cuda.matmul.allow_tf32}; cuDNN autotuner {CuDnnAutotuner.Enabled?.ToString() ?? "unknown"}"; }
        catch (Exception e) when (e is ExternalException or EntryPointNotFoundException) { return ""; }
    }

    /// <summary>
    /// Device memory in use, from nvidia-smi: TorchSharp 0.107 exposes no <c>torch.cuda.memory_*</c> statistics and no
    /// <c>empty_cache</c> (checked in its source: <c>torch.cuda</c> has is_available, device_count, manual_seed and
    /// synchronize only). The figure is the whole device's, so it holds the CUDA context and everything libtorch's caching
    /// allocator has reserved so far; the allocator keeps what it reserved, so the readings only grow, and each is
    /// the peak reserve up to that point. "" on the CPU; a note when nvidia-smi cannot be run.
    /// </summary>
    public string DeviceMemory()
    {
        if (!IsCuda) return "";
        var fields = NvidiaSmi("memory.used,memory.total", out string why)?.Split(',', StringSplitOptions.TrimEntries);
        return fields is { Length: 2 } ? $"device memory in use {fields[0]} of {fields[1]} MiB (nvidia-smi)" : "device memory: " + why;
    }

    /// <summary>" (the GPU's name)", or "" when nvidia-smi cannot tell.</summary>
    public string GpuName() => IsCuda && NvidiaSmi("name", out _) is string name ? $" ({name})" : "";

    /// <summary>One query of this device's properties; null (and why) when nvidia-smi is missing or fails.</summary>
    private string? NvidiaSmi(string query, out string why)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nvidia-smi",
                ["--query-gpu=" + query, "--format=csv,noheader,nounits", "-i", GpuDeviceId.ToString(CultureInfo.InvariantCulture)])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            var output = p.StandardOutput.ReadToEndAsync();
            var errors = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(10_000))
            {
                p.Kill();
                why = "nvidia-smi timed out";
                return null;
            }
            why = $"nvidia-smi exit code {p.ExitCode}: {errors.Result.Trim()}";
            return p.ExitCode == 0 ? output.Result.Trim() : null;
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            why = "nvidia-smi not available (" + e.Message + ")";
            return null;
        }
    }

    /// <summary>
    /// Follows what every Fit writes to <c>MLContext.Log</c> when its optimizer is made ("trainable parameters: ... on
    /// cuda:0, bf16 mixed precision ..."), so that each timed Fit's device and number format are checked, not assumed.
    /// Call the returned function after a Fit: it prints a warning and records a failure when the line is missing or
    /// names another device or format than asked for.
    /// </summary>
    public Action<string, TrainingPrecision, List<string>> WatchFits(MLContext ml)
    {
        string? last = null;
        ml.Log += (_, e) =>
        {
            if (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info && e.Message.Contains("trainable parameters:", StringComparison.Ordinal))
                last = e.Message;
        };
        return (what, precision, failures) =>
        {
            string? line = last;
            last = null;
            bool mixed = MixedPrecision.Wanted(precision, Device);
            if (line != null && line.Contains($" on {Device}", StringComparison.Ordinal) && line.Contains("bf16 mixed precision", StringComparison.Ordinal) == mixed)
                return;
            failures.Add(what + ": device or precision not as asked");
            Console.WriteLine($"  WARNING: {what} was to train on {Device}{(mixed ? " in bf16" : " in fp32")}; its log says: {line ?? "(nothing)"}");
        };
    }

    /// <summary>Runs one measured section; a failure (say, of bf16 on this device) is printed and added to
    /// <paramref name="failures"/>, and the run goes on with the other sections, so that one run on a lent machine gives
    /// every figure it can. Returns false on failure.</summary>
    public static bool Attempt(string what, Action run, List<string> failures)
    {
        try
        {
            run();
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failures.Add(what);
            Console.WriteLine($"  FAILED: {what}: {e.GetType().Name}: {e.Message}");
            foreach (var line in (e.StackTrace ?? "").Split('\n').Take(8)) Console.WriteLine("    " + line.Trim());
            return false;
        }
    }
}
