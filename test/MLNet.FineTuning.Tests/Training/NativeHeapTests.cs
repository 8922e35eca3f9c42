using System.Runtime.InteropServices;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class NativeHeapTests
{
    [Fact]
    public void TuneForTraining_OnGlibc_ServesLargeBlocksFromTheHeapInsteadOfFreshMappings()
    {
        if (!OperatingSystem.IsLinux()) return;   // glibc only; elsewhere the class does nothing (ReasonToLeaveAlone)
        Assert.True(NativeHeap.TuneForTraining(null), "mallopt refused the thresholds (or the environment opted out)");

        // 48 MiB: above glibc's largest dynamic mmap threshold (32 MiB), so without the raised threshold every such
        // block is a fresh mmap (one more "hblks"), as libtorch's large tensors were; below a thread arena's 64 MiB.
        const int size = 48 << 20;
        ulong before = MallocInfo().hblks;
        IntPtr block = Marshal.AllocHGlobal(size);   // malloc on Unix
        try { Assert.Equal(before, (ulong)MallocInfo().hblks); }
        finally { Marshal.FreeHGlobal(block); }
    }

    [Theory]
    [InlineData("MLNET_FINETUNING_KEEP_MALLOC", "1", "MLNET_FINETUNING_KEEP_MALLOC")]
    [InlineData("MALLOC_MMAP_THRESHOLD_", "131072", "MALLOC_MMAP_THRESHOLD_")]
    [InlineData("MALLOC_ARENA_MAX", "2", "MALLOC_ARENA_MAX")]
    [InlineData("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0", "GLIBC_TUNABLES")]
    [InlineData("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2", "allocator")]
    public void ReasonToLeaveAlone_UsersOwnAllocatorSettings_AreKept(string name, string value, string expectedInReason)
    {
        if (!OperatingSystem.IsLinux()) return;
        string? reason = NativeHeap.ReasonToLeaveAlone(n => n == name ? value : null);

        Assert.NotNull(reason);
        Assert.Contains(expectedInReason, reason);
        Assert.Null(NativeHeap.ReasonToLeaveAlone(n => n == "GLIBC_TUNABLES" ? "glibc.cpu.hwcaps=-AVX2" : null));   // not malloc's
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc.so.6", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 MallocInfo();
}
