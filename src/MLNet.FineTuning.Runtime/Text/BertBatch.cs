namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// A batch of encoded texts as BERT's three int64 inputs, each a row-major [<see cref="BatchSize"/>,
/// <see cref="SequenceLength"/>] array, padded to the longest sequence of the batch: pass an array with
/// <see cref="Shape"/> to <c>torch.tensor(array, shape)</c> or ONNX Runtime's <c>DenseTensor&lt;long&gt;</c>.
/// </summary>
/// <remarks>Padding positions hold the <c>[PAD]</c> id, attention mask 0 and token type 0, as Hugging Face pads.</remarks>
public sealed class BertBatch
{
    internal BertBatch(int batchSize, int sequenceLength, long[] inputIds, long[] attentionMask, long[] tokenTypeIds)
    {
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    /// <summary>Number of rows (texts).</summary>
    public int BatchSize { get; }

    /// <summary>Length of every row: the longest encoded text of the batch, never more than the <c>maxLength</c> asked for.</summary>
    public int SequenceLength { get; }

    /// <summary>Vocabulary ids, <c>[PAD]</c> after the end of each sequence.</summary>
    public long[] InputIds { get; }

    /// <summary>1 for a real token, 0 for padding.</summary>
    public long[] AttentionMask { get; }

    /// <summary>0 for the first segment (and padding), 1 for the pair's segment.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>The tensor shape of each array: [<see cref="BatchSize"/>, <see cref="SequenceLength"/>].</summary>
    public long[] Shape => [BatchSize, SequenceLength];

    /// <summary>The batch of rows laid end to end in <paramref name="flat"/> (row i is <c>flat[starts[i]..starts[i + 1]]</c>),
    /// each padded with <paramref name="padId"/> to the longest; a row's tokens from <c>firstSegments[i]</c> on get token
    /// type 1 (all 0 when <paramref name="firstSegments"/> is null, as for RoBERTa).</summary>
    internal static BertBatch Padded(List<int> flat, int[] starts, int[]? firstSegments, int padId)
    {
        int count = starts.Length - 1, longest = 0;
        for (int i = 0; i < count; i++) longest = Math.Max(longest, starts[i + 1] - starts[i]);
        var ids = new long[count * longest];
        var mask = new long[ids.Length];
        var types = new long[ids.Length];
        if (padId != 0) Array.Fill(ids, (long)padId);
        for (int i = 0; i < count; i++)
        {
            int offset = i * longest;
            for (int j = 0; j < starts[i + 1] - starts[i]; j++)
            {
                ids[offset + j] = flat[starts[i] + j];
                mask[offset + j] = 1;
                if (firstSegments is not null && j >= firstSegments[i]) types[offset + j] = 1;
            }
        }
        return new BertBatch(count, longest, ids, mask, types);
    }
}
