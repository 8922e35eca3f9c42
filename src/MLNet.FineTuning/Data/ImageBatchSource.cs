using System.Collections.Concurrent;
using Microsoft.ML;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Batches of images for the training loop: uint8 [n,3,S,S] RGB 0..255 and int64 labels. Training batches
/// are shuffled and augmented with a seed derived from (seed, epoch), so an epoch replays exactly;
/// evaluation batches keep row order and use the centre crop. Decoding (when not cached) and augmentation
/// run on a background producer, <see cref="Prefetch"/> batches ahead, so the device does not wait for them. The
/// producer makes managed arrays only; their tensors are made on the thread that asks for the batches (the training
/// thread): libtorch's CPU operations run on OpenMP, which gives every thread that calls it a team of its own, and once
/// a process holds more OpenMP threads than cores, libgomp stops spinning between parallel regions, so every operation
/// of the training step waits for its workers to be woken by the kernel (6–20 % slower steps on 2 cores:
/// docs/benchmarks.md, "One thread calls libtorch").
/// When every epoch would see the same pixels (evaluation, or training that does not change the images) and
/// <paramref name="keepPixels"/> allows it, they are made once and kept on the training device (<see cref="PixelCache"/>):
/// the batches are then gathered there, the same bytes in the same order.
/// </summary>
/// <param name="data">The rows, read once.</param>
/// <param name="imageSize">S, the side of the square the network sees.</param>
/// <param name="batchSize">Rows per batch (an epoch's last batch may hold fewer).</param>
/// <param name="train">Training batches (shuffled, augmented) or evaluation ones (row order, centre square).</param>
/// <param name="seed">Where the epoch's draws derive from.</param>
/// <param name="augmentation">What training batches do to each image; evaluation batches (train false) see the centre square.</param>
/// <param name="keepPixels">Where and within what budget the fixed pixels may be kept; null: never (each epoch resamples).</param>
/// <param name="balanceClasses">Training epochs draw as many rows of every class (<see cref="BalancedSampling"/>).</param>
internal sealed class ImageBatchSource(ImageDataset data, int imageSize, int batchSize, bool train, int seed,
                                       ImageAugmentationSettings augmentation, PixelKeeping? keepPixels = null,
                                       bool balanceClasses = false) : IBatchSource
{
    private const int Prefetch = 3;
    private PixelCache? pixels;
    private bool pixelsTried;

    public long RowCount => data.Count;

    /// <summary>Whether the batches are gathered from kept pixels (known once the batches were first asked for).</summary>
    internal bool KeepsPixels => pixels != null;

    /// <summary>Whether every epoch sees the same pixels: evaluation, or training whose images are not changed.</summary>
    private bool FixedPixels => !train || augmentation.LeavesImagesAsTheyAre;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        if (!pixelsTried && keepPixels is { } keep && FixedPixels && data.Images is { } images)
            pixels = PixelCache.TryCreate(images, imageSize, keep.Device, keep.BudgetBytes, keep.Log, train ? "training" : "validation", keep.ChunkBytes);
        pixelsTried = true;
        var rng = new Random(Seeds.Stable(seed, epoch, 0x5eed));
        if (pixels != null)
        {
            // A gather on the device per batch: nothing to prefetch.
            foreach (var batch in Gathered(pixels, Order(rng), cancellation)) yield return batch;
            yield break;
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<HostBatch>(Prefetch);
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in Produce(epoch, rng, stop.Token)) queue.Add(batch, stop.Token);
            }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return ToBatch(batch);
            producer.GetAwaiter().GetResult();   // surface a decoding error with its row and column
        }
        finally
        {
            stop.Cancel();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    /// <summary>A batch as the producer makes it: uint8 pixels [n,3,S,S] and the n labels, no tensors yet (see the class).</summary>
    private sealed record HostBatch(byte[] Pixels, float[][] Labels);

    /// <summary>The tensors of <paramref name="batch"/>: the pixels over the producer's array itself (pinned until the
    /// batch is disposed; each batch has its own array), no copy: at 224 px a batch of 128 is 19 MB, which
    /// <c>tensor(byte[])</c> copied in about 5 ms.</summary>
    private Batch ToBatch(HostBatch batch)
    {
        using var flat = frombuffer(batch.Pixels, ScalarType.Byte);
        return new Batch([flat.view(batch.Labels.Length, 3, imageSize, imageSize)], LabelReader.ToTensor(batch.Labels, data.Kind));
    }

    private IEnumerable<HostBatch> Produce(int epoch, Random rng, CancellationToken cancellation)
    {
        var pending = new List<(DecodedImage Image, float[] Label, int Seed)>(batchSize);
        foreach (var (image, label) in Examples(epoch, rng))
        {
            cancellation.ThrowIfCancellationRequested();
            pending.Add((image, label, rng.Next()));
            if (pending.Count == batchSize)
            {
                yield return MakeBatch(pending);
                pending.Clear();
            }
        }
        // A last batch of one would break BatchNorm in training mode: drop it (PyTorch's drop_last, for one row).
        if (pending.Count > 1 || (pending.Count == 1 && !train)) yield return MakeBatch(pending);
    }

    private IEnumerable<(DecodedImage Image, float[] Label)> Examples(int epoch, Random rng)
    {
        if (data.Images is { } cached)
        {
            foreach (int i in Order(rng)) yield return (cached[i], data.Labels[i]);
            yield break;
        }
        // Over the cache budget: stream and decode again; when training, in the source's shuffled order where it can
        // shuffle, then through a pool (ShufflePool says why not ML.NET's ShuffleRows).
        var rows = ImageDataset.Rows(data.View, data.ImageColumn, data.LabelColumn, data.Kind,
                train ? new Random(Seeds.Stable(seed, epoch, 0)) : null)
            .Where(r => r.Image != null).Select(r => (Image: r.Image!, r.Label));
        if (!train)
        {
            foreach (var row in rows) yield return row;
            yield break;
        }
        if (Balanced) rows = BalancedSampling.Copies(rows.Select(r => (r, LabelReader.ClassIndices([r.Label], data.Kind)[0])), data.ClassIndices, rng);
        foreach (var row in ShufflePool.Shuffle(rows, r => r.Image.Bytes, rng)) yield return row;
    }

    private bool Balanced => train && balanceClasses;

    /// <summary>The epoch's row order for cached rows: shuffled by <paramref name="rng"/> (and class-balanced when asked) when
    /// training, as stored otherwise.</summary>
    private int[] Order(Random rng)
    {
        if (Balanced) return BalancedSampling.Order(data.ClassIndices, rng);
        var order = Enumerable.Range(0, data.Count).ToArray();
        if (train) rng.Shuffle(order);
        return order;
    }

    /// <summary>The batches of <paramref name="order"/> gathered from the kept pixels, cut as <see cref="Produce"/> cuts them.</summary>
    private IEnumerable<Batch> Gathered(PixelCache cache, int[] order, CancellationToken cancellation)
    {
        for (int start = 0; start < order.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            var rows = order[start..Math.Min(order.Length, start + batchSize)];
            if (rows.Length == 1 && train) yield break;   // the one-row batch Produce drops
            yield return new Batch([cache.Gather(rows)], LabelReader.ToTensor(Array.ConvertAll(rows, i => data.Labels[i]), data.Kind));
        }
    }

    /// <summary>Frees the kept pixels (device memory on a GPU).</summary>
    public void Dispose()
    {
        pixels?.Dispose();
        pixels = null;
    }

    private HostBatch MakeBatch(List<(DecodedImage Image, float[] Label, int Seed)> items)
    {
        int n = items.Count, per = 3 * imageSize * imageSize;
        var pixels = new byte[n * per];   // uint8 0..255: the network's preprocessing widens them on the device
        Parallel.For(0, n, i =>
        {
            var span = pixels.AsSpan(i * per, per);
            if (!train)
            {
                ImageAugmentation.CenterCrop(items[i].Image, imageSize, span);
                return;
            }
            var rng = new Random(items[i].Seed);
            ImageAugmentation.RandomResizedCrop(items[i].Image, imageSize, augmentation.MinCropScale, augmentation.Flip, rng, span);
            if (augmentation.Photometric) ImageAugmentation.Photometric(span, augmentation.ColorJitter, augmentation.NoiseLevel, rng);
        });
        return new HostBatch(pixels, items.Select(x => x.Label).ToArray());
    }
}
