
namespace MLNet.FineTuning.Benchmarks;

/// <summary>One reading of the process's memory, in MiB.</summary>
/// <param name="Resident">VmRSS: resident now (native libtorch/ONNX Runtime memory included).</param>
/// <param name="Peak">VmHWM: the peak resident size since the start, or since the last <see cref="ProcessMemory.ResetPeak"/>.</param>
/// <param name="Managed">The .NET heap: live objects after a full collection when the reading asked for one,
/// otherwise everything allocated and not yet collected.</param>
internal readonly record struct MemoryReading(double Resident, double Peak, double Managed)
{
    public override string ToString() => $"peak RSS {Peak,7:F0} MiB, RSS now {Resident,7:F0} MiB, managed heap {Managed,6:F1} MiB";
}

/// <summary>Reads /proc/self/status (Linux). Elsewhere the resident figures fall back to the process working set.</summary>
internal static class ProcessMemory
{
    private const double MiB = 1 << 20;

    /// <summary>true when the last <see cref="ResetPeak"/> worked, so <see cref="MemoryReading.Peak"/> is the peak of the phase.</summary>
    public static bool PeakIsPerPhase { get; private set; }

    public static MemoryReading Read(bool collectManaged = false)
    {
        double managed = GC.GetTotalMemory(collectManaged) / MiB;
        try
        {
            double rss = double.NaN, hwm = double.NaN;
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kilobytes(line) / 1024;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kilobytes(line) / 1024;
            }
            return new MemoryReading(rss, hwm, managed);
        }
        catch (IOException)
        {
            using var p = System.Diagnostics.Process.GetCurrentProcess();
            return new MemoryReading(p.WorkingSet64 / MiB, p.PeakWorkingSet64 / MiB, managed);
        }
    }

    /// <summary>Resets VmHWM to the current RSS (Linux ≥ 4.0: write 5 to /proc/self/clear_refs), so that the next
    /// reading's peak belongs to one phase. Where that is not allowed, the peak stays the peak since the start.</summary>
    public static void ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            PeakIsPerPhase = true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            PeakIsPerPhase = false;
        }
    }

    /// <summary>
    /// glibc's malloc_trim(0): gives the free pages of every malloc arena back to the system. What stays
    /// resident afterwards is memory in use (plus partly used pages); what goes is memory the allocator kept
    /// for reuse. libtorch's CPU tensors come from malloc, and glibc's dynamic mmap threshold moves large
    /// blocks from mmap (returned on free) into the arenas (kept), so RSS grows without a leak (TorchSharp
    /// issue #1466). Returns false where there is no glibc.
    /// </summary>
    public static bool TrimNativeHeap() => MLNet.FineTuning.Training.NativeHeap.Trim();

    private static double Kilobytes(string line) =>
        double.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), System.Globalization.CultureInfo.InvariantCulture);
}
