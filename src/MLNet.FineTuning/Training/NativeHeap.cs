using System.Runtime.InteropServices;
using Microsoft.ML.Runtime;

namespace MLNet.FineTuning.Training;

/// <summary>
/// glibc's allocator settings for training on the CPU. libtorch takes every CPU tensor from malloc, and a training
/// step frees and allocates the same few hundred large blocks (activations, gradients) again and again. glibc serves
/// blocks above its mmap threshold with a fresh mmap and returns them with munmap, and gives the top of the heap back
/// when more than the trim threshold lies free there; either way the next step touches new pages, and the kernel's
/// page faults and zeroing took a third of the CPU time of a ResNet-18 step (docs/benchmarks.md, "The CPU
/// allocator"). Raising both thresholds keeps the freed blocks in the heap for the next step: 2.5× the images per
/// second on 2 cores, same results. After training the free memory goes back to the system with <c>malloc_trim</c>.
/// </summary>
/// <remarks>The settings are process-wide and cannot be read back, so a user who chose their own (the <c>MALLOC_*_</c>
/// environment variables, <c>GLIBC_TUNABLES</c>, or another allocator through <c>LD_PRELOAD</c>) keeps them, and so
/// does anyone who sets <c>MLNET_FINETUNING_KEEP_MALLOC=1</c>.</remarks>
internal static class NativeHeap
{
    // mallopt's parameter numbers, from glibc's malloc.h.
    private const int M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3;
    private const int Threshold = 1 << 30;   // 1 GiB: above any one tensor of the training step at the sizes a CPU trains

    private static readonly object Gate = new();
    private static bool? tuned;

    /// <summary>What <see cref="TuneForTraining"/> does with this process's environment: null to tune, else why not.</summary>
    internal static string? ReasonToLeaveAlone(Func<string, string?> environment)
    {
        if (!OperatingSystem.IsLinux()) return "not Linux (glibc only)";
        if (environment("MLNET_FINETUNING_KEEP_MALLOC") is "1" or "true") return "MLNET_FINETUNING_KEEP_MALLOC is set";
        foreach (var name in new[] { "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_", "MALLOC_ARENA_MAX" })
            if (!string.IsNullOrEmpty(environment(name))) return $"the user set {name}";
        if (environment("GLIBC_TUNABLES") is string t && t.Contains("glibc.malloc.", StringComparison.Ordinal)) return "the user set GLIBC_TUNABLES";
        if (environment("LD_PRELOAD") is string p && p.Contains("malloc", StringComparison.OrdinalIgnoreCase)) return "another allocator is preloaded";
        return null;
    }

    /// <summary>Raises glibc's mmap and trim thresholds once per process (see the class); true when they are raised.</summary>
    public static bool TuneForTraining(IChannel? log)
    {
        lock (Gate)
        {
            if (tuned is bool done) return done;
            string? reason = ReasonToLeaveAlone(Environment.GetEnvironmentVariable);
            try
            {
                tuned = reason == null && mallopt(M_MMAP_THRESHOLD, Threshold) == 1 && mallopt(M_TRIM_THRESHOLD, Threshold) == 1;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                reason = "no glibc";
                tuned = false;
            }
            log?.Info(MessageSensitivity.None, tuned.Value
                ? "CPU training: glibc keeps freed blocks up to 1 GiB for reuse (mmap and trim thresholds; MLNET_FINETUNING_KEEP_MALLOC=1 leaves them alone)"
                : $"CPU training: glibc's allocator settings left as they are ({reason ?? "mallopt refused"})");
            return tuned.Value;
        }
    }

    /// <summary>Gives the heap's free memory back to the system after training (when <see cref="TuneForTraining"/> kept it).</summary>
    public static void Release()
    {
        if (tuned == true) Trim();
    }

    /// <summary>glibc's <c>malloc_trim(0)</c>: the free pages of every arena go back to the system (also what the memory
    /// benchmarks call before they read resident memory). False where there is no glibc.</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try { return malloc_trim(0) >= 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    // "libc.so.6" is glibc's own name: musl and others fail to load it and are left alone.
    [DllImport("libc.so.6", EntryPoint = "mallopt")]
    private static extern int mallopt(int parameter, int value);

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
