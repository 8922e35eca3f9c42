using System.Collections.Concurrent;

namespace MLNet.FineTuning.Training;

/// <summary>
/// Bytes that data sources keep on a device across epochs (the image rows' kept pixels, <c>Data.PixelCache</c>), per
/// device, while they are alive. An out-of-memory error names them (<see cref="TrainingOutOfMemoryException"/>): they are
/// memory a user can give back without changing the batch.
/// </summary>
internal static class KeptDeviceMemory
{
    private static readonly ConcurrentDictionary<string, long> bytes = new();

    public static void Add(string device, long count) => bytes.AddOrUpdate(device, count, (_, n) => n + count);

    public static void Remove(string device, long count) => bytes.AddOrUpdate(device, 0, (_, n) => n - count);

    /// <summary>Bytes kept on <paramref name="device"/> ("cpu", "cuda:0") now.</summary>
    public static long Bytes(string device) => bytes.TryGetValue(device, out long n) ? n : 0;
}
