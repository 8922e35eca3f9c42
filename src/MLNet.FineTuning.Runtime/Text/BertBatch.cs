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
}
