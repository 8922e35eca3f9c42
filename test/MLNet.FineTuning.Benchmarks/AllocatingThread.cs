namespace MLNet.FineTuning.Benchmarks;

/// <summary>A thread that allocates 4 KiB arrays without pause until <c>stop</c> is cancelled, so that collections (and
/// the finalizers after them) run while the main thread is inside native calls (docs/scalar-lifetime.md).</summary>
internal static class AllocatingThread
{
    public static Thread Start(CancellationToken stop)
    {
        var thread = new Thread(() =>
        {
            var keep = new object[64];
            for (int i = 0; !stop.IsCancellationRequested; i++) keep[i & 63] = new byte[4096];
        });
        thread.Start();
        return thread;
    }
}
