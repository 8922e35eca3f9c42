using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Batches of tokenized text: <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c> int64 [n, s],
/// padded to the longest row of the batch (never to the maximum length). Training batches are shuffled and then
/// sorted by length within buckets of <see cref="BucketBatches"/> batches, so rows of similar length share a
/// batch and padding stays small; the order of the batches is shuffled again. Seeds derive from (seed, epoch).
/// </summary>
internal sealed class TextBatchSource : IBatchSource
{
    /// <summary>Batches per length bucket: large enough to group lengths, small enough to keep batches random.</summary>
    private const int BucketBatches = 50;
    private readonly TextDataset data;
    private readonly int batchSize, seed;
    private readonly long padId;
    private readonly bool train, balanceClasses;

    /// <param name="data">The rows, tokenized.</param>
    /// <param name="batchSize">Rows per batch.</param>
    /// <param name="train">Training batches (shuffled, bucketed by length) or evaluation ones (sorted by length).</param>
    /// <param name="seed">Where each epoch's shuffle derives from.</param>
    /// <param name="padId">The tokenizer's padding id.</param>
    /// <param name="balanceClasses">Training epochs draw as many rows of every class (<see cref="BalancedSampling"/>).</param>
    public TextBatchSource(TextDataset data, int batchSize, bool train, int seed, int padId, bool balanceClasses = false)
    {
        this.data = data;
        this.balanceClasses = balanceClasses;
        this.batchSize = batchSize;
        this.train = train;
        this.seed = seed;
        this.padId = padId;
    }

    public long RowCount => data.Count;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        foreach (var rows in Order(epoch))
        {
            cancellation.ThrowIfCancellationRequested();
            yield return MakeBatch(rows);
        }
    }

    private List<int[]> Order(int epoch)
    {
        var order = Enumerable.Range(0, data.Count).ToArray();
        if (!train)
        {
            // Evaluation: sort by length (metrics do not depend on order) for the least padding.
            Array.Sort(order, (a, b) => data.Encodings[a].InputIds.Length.CompareTo(data.Encodings[b].InputIds.Length));
            return order.Chunk(batchSize).ToList();
        }
        var rng = new Random(Seeds.Stable(seed, epoch, 0x7e47));
        if (balanceClasses) order = BalancedSampling.Order(data.ClassIndices, rng);
        else rng.Shuffle(order);
        var batches = new List<int[]>();
        foreach (var bucket in order.Chunk(batchSize * BucketBatches))
        {
            Array.Sort(bucket, (a, b) => data.Encodings[a].InputIds.Length.CompareTo(data.Encodings[b].InputIds.Length));
            batches.AddRange(bucket.Chunk(batchSize));
        }
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(batches));
        return batches;
    }

    private Batch MakeBatch(int[] rows)
    {
        int n = rows.Length, s = rows.Max(r => data.Encodings[r].InputIds.Length);
        var ids = new long[n * s];
        var mask = new long[n * s];
        var types = new long[n * s];
        if (padId != 0) Array.Fill(ids, padId);
        for (int i = 0; i < n; i++)
        {
            var e = data.Encodings[rows[i]];
            e.InputIds.CopyTo(ids, i * s);
            e.TokenTypeIds.CopyTo(types, i * s);
            Array.Fill(mask, 1L, i * s, e.InputIds.Length);
        }
        return new Batch([tensor(ids, [n, s]), tensor(mask, [n, s]), tensor(types, [n, s])],
            LabelReader.ToTensor(rows.Select(r => data.Labels[r]).ToArray(), data.Kind));
    }
}
