namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// One text (or text pair) as BERT's three int64 inputs, without padding:
/// <c>[CLS] text [SEP]</c> or <c>[CLS] text [SEP] pair [SEP]</c>.
/// </summary>
public sealed class BertEncoding
{
    internal BertEncoding(long[] inputIds, long[] tokenTypeIds)
    {
        InputIds = inputIds;
        TokenTypeIds = tokenTypeIds;
        AttentionMask = new long[inputIds.Length];
        Array.Fill(AttentionMask, 1L);
    }

    /// <summary>Vocabulary ids, special tokens included; <see cref="Length"/> of them.</summary>
    public long[] InputIds { get; }

    /// <summary>Segment of each token: 0 for <c>[CLS]</c>, the text and its <c>[SEP]</c>; 1 for the pair and the last <c>[SEP]</c>.</summary>
    public long[] TokenTypeIds { get; }

    /// <summary>All ones: an unpadded sequence has no position to mask.</summary>
    public long[] AttentionMask { get; }

    /// <summary>Number of tokens, at most the <c>maxLength</c> it was encoded with.</summary>
    public int Length => InputIds.Length;
}
