using System.Collections.Concurrent;
using Microsoft.ML;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Batches of images for the training loop: uint8 [n,3,S,S] RGB 0..255 and int64 labels. Training batches
/// are shuffled and augmented with a seed derived from (seed, epoch), so an epoch replays exactly;
/// evaluation batches keep row order and use the centre crop. Decoding (when not cached) and augmentation
/// run on a background producer, <see cref="Prefetch"/> batches ahead, so the device does not wait for them.
/// </summary>
internal sealed class ImageBatchSource : IBatchSource
{
    private const int Prefetch = 3;
    private readonly MLContext mlContext;
    private readonly ImageDataset data;
    private readonly int imageSize, batchSize, seed;
    private readonly bool train;
    private readonly ImageAugmentationSettings augmentation;

    // augmentation: what training batches do to each image; evaluation batches (train false) see the centre square.
    public ImageBatchSource(MLContext mlContext, ImageDataset data, int imageSize, int batchSize, bool train, int seed, ImageAugmentationSettings augmentation)
    {
        this.mlContext = mlContext;
        this.data = data;
        this.imageSize = imageSize;
        this.batchSize = batchSize;
        this.train = train;
        this.seed = seed;
        this.augmentation = augmentation;
    }

    public long RowCount => data.Count;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<Batch>(Prefetch);
        var producer = Task.Run(() =>
        {
            try
            {
                foreach (var batch in Produce(epoch, stop.Token))
                {
                    try { queue.Add(batch, stop.Token); }
                    catch { batch.Dispose(); throw; }
                }
            }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable())
                yield return batch;
            producer.GetAwaiter().GetResult();   // surface a decoding error with its row and column
        }
        finally
        {
            stop.Cancel();
            foreach (var left in queue) left.Dispose();
            try { producer.Wait(); } catch (AggregateException) { }
        }
    }

    private IEnumerable<Batch> Produce(int epoch, CancellationToken cancellation)
    {
        var rng = new Random(Seeds.Stable(seed, epoch, 0x5eed));
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
            var order = Enumerable.Range(0, data.Count).ToArray();
            if (train) rng.Shuffle(order);
            foreach (int i in order) yield return (cached[i], data.Labels[i]);
            yield break;
        }
        // Over the cache budget: stream and decode again, shuffled by ML.NET's pool shuffle when training.
        var view = train ? mlContext.Data.ShuffleRows(data.View, seed: Seeds.Stable(seed, epoch, 0), shufflePoolSize: 1000) : data.View;
        foreach (var (_, label, image, _) in ImageDataset.Rows(view, data.ImageColumn, data.LabelColumn, data.Kind))
            if (image != null) yield return (image, label);
    }

    private Batch MakeBatch(List<(DecodedImage Image, float[] Label, int Seed)> items)
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
        return new Batch([tensor(pixels, [n, 3, imageSize, imageSize])], LabelReader.ToTensor(items.Select(x => x.Label).ToArray(), data.Kind));
    }
}
