namespace MLNet.FineTuning.Tests;

/// <summary>
/// A second thread that allocates 4 KiB arrays without pause until disposed, so that garbage collections (and the
/// finalizers after them) run while the test's thread is inside native calls. TorchSharp frees a tensor's or a
/// scalar's native object in its finalizer, and hands native code a raw handle: an object that nothing references
/// any more can be freed while libtorch still reads it (docs/scalar-lifetime.md). Under this pressure such a use
/// after free crashed a test host within seconds.
/// </summary>
internal sealed class CollectionPressure : IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private readonly Thread thread;

    public CollectionPressure()
    {
        var token = stop.Token;
        thread = new Thread(() =>
        {
            var keep = new object[64];
            for (int i = 0; !token.IsCancellationRequested; i++) keep[i & 63] = new byte[4096];
        }) { IsBackground = true, Name = "collection pressure" };
        thread.Start();
    }

    public void Dispose()
    {
        stop.Cancel();
        thread.Join();
        stop.Dispose();
    }
}
