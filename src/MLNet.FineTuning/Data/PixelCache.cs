using Microsoft.ML.Runtime;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The centre-cropped pixels of every row at one image size, uint8 [N,3,S,S], made once and kept on the training device.
/// An evaluation source sees the same pixels every epoch, and so does a training source whose images are not changed
/// (no crop, flip or photometric change: the default policy); without this cache each epoch resampled every image again
/// on the CPU and copied each batch to the device. With it a batch is one gather on the device (on a GPU at 224 px the
/// batch making, not the GPU, set the training pace: docs/benchmarks.md, "On a GPU").
/// </summary>
internal sealed class PixelCache : IDisposable
{
    /// <summary>Images resampled per host buffer while the cache is filled: about 64 MiB at a time, not the whole set.</summary>
    internal const long DefaultChunkBytes = 64L << 20;
    private readonly Tensor pixels;
    private readonly string deviceName;
    private int disposed;

    private PixelCache(Tensor pixels)
    {
        this.pixels = pixels;
        deviceName = pixels.device.ToString();
        KeptDeviceMemory.Add(deviceName, pixels.numel());   // uint8: one byte per element
    }

    /// <summary>The pixels of <paramref name="images"/> at <paramref name="size"/> on <paramref name="device"/>, or null when
    /// they would take more than <paramref name="budgetBytes"/> or the device has no room for them (then the batches are
    /// made from the decoded images as before: the same bytes, more work per epoch). Logs which it was.</summary>
    public static PixelCache? TryCreate(IReadOnlyList<DecodedImage> images, int size, Device device, long budgetBytes, IChannel? log, string role,
                                        long chunkBytes = DefaultChunkBytes)
    {
        long per = 3L * size * size, total = per * images.Count;
        if (total > budgetBytes)
        {
            log?.Info(MessageSensitivity.None, $"{role} pixels at {size} px not kept ({total >> 20} MiB over the image cache budget of {budgetBytes >> 20} MiB): each epoch resamples them");
            return null;
        }
        Tensor? all = null;
        try
        {
            // Kept across epochs: out of any dispose scope the first enumeration of the batches happens to run in.
            all = empty([images.Count, 3, size, size], dtype: uint8, device: device).DetachFromDisposeScope();
            int chunk = (int)Math.Clamp(chunkBytes / per, 1, images.Count);
            var buffer = new byte[chunk * per];
            for (int start = 0; start < images.Count; start += chunk)
            {
                int n = Math.Min(chunk, images.Count - start);
                Parallel.For(0, n, i => ImageAugmentation.CenterCrop(images[start + i], size, buffer.AsSpan((int)(i * per), (int)per)));
                // Over the buffer itself (tensor(byte[]) would copy it first), copied out before the next chunk refills it.
                using var flat = frombuffer(buffer, ScalarType.Byte, count: n * per);
                using var part = flat.view(n, 3, size, size);
                using var target = all.narrow(0, start, n);
                target.copy_(part);
            }
            log?.Info(MessageSensitivity.None, $"{role} pixels at {size} px kept on {device} ({Math.Max(1, total >> 20)} MiB): batches gather them");
            return new PixelCache(all);
        }
        catch (Exception e) when (TrainingOutOfMemoryException.IsOutOfMemory(e))
        {
            all?.Dispose();
            log?.Info(MessageSensitivity.None, $"{role} pixels at {size} px not kept: no room on {device} for {total >> 20} MiB; each epoch resamples them");
            return null;
        }
    }

    /// <summary>uint8 [n,3,S,S] of <paramref name="rows"/>, in their order, on the cache's device.</summary>
    public Tensor Gather(int[] rows)
    {
        using var index = tensor(Array.ConvertAll(rows, r => (long)r), device: pixels.device);
        return pixels.index_select(0, index);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        KeptDeviceMemory.Remove(deviceName, pixels.numel());
        pixels.Dispose();
    }
}

/// <summary>Where a batch source may keep fixed pixels (<see cref="PixelCache"/>): the training device, the most bytes, the
/// log that says whether it did, and how many bytes of pixels are made per host buffer while the cache fills.</summary>
internal sealed record PixelKeeping(Device Device, long BudgetBytes, IChannel? Log, long ChunkBytes = PixelCache.DefaultChunkBytes);
