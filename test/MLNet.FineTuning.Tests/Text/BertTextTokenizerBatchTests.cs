using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Batches: padding to the longest row, masks, token types. Ids as in <see cref="BertTextTokenizerIdsTests"/>.</summary>
public class BertTextTokenizerBatchTests
{
    private static BertTextTokenizer Tokenizer => BertVocabulary.Uncased;

    [Fact]
    public void EncodeBatch_MixedLengths_PaddedToLongestWithMasks()
    {
        // "the quick brown fox" is the longest row: 4 tokens + 2 specials = 6, far below maxLength 128.
        var batch = Tokenizer.EncodeBatch(["hello world", "", null, "the quick brown fox"], null, 128);

        Assert.Equal(4, batch.BatchSize);
        Assert.Equal(6, batch.SequenceLength);
        Assert.Equal([4L, 6L], batch.Shape);
        Assert.Equal(
            [101, 7592, 2088, 102, 0, 0,
             101, 102, 0, 0, 0, 0,
             101, 102, 0, 0, 0, 0,
             101, 1996, 4248, 2829, 4419, 102], batch.InputIds);
        Assert.Equal(
            [1, 1, 1, 1, 0, 0,
             1, 1, 0, 0, 0, 0,
             1, 1, 0, 0, 0, 0,
             1, 1, 1, 1, 1, 1], batch.AttentionMask);
        Assert.All(batch.TokenTypeIds, t => Assert.Equal(0, t));
    }

    [Fact]
    public void EncodeBatch_OverMaxLength_RowsTruncatedToMaxLength()
    {
        var batch = Tokenizer.EncodeBatch(["the quick brown fox jumps", "hello"], null, 4);

        Assert.Equal(4, batch.SequenceLength);
        Assert.Equal([101, 1996, 4248, 102, 101, 7592, 102, 0], batch.InputIds);
    }

    [Fact]
    public void EncodeBatch_Pairs_TokenTypesAndPadding()
    {
        // A null pair is an empty second segment: [CLS] a [SEP] [SEP].
        var batch = Tokenizer.EncodeBatch(["hello world", "a"], ["good morning", null], 32);

        Assert.Equal(7, batch.SequenceLength);
        Assert.Equal([101, 7592, 2088, 102, 2204, 2851, 102, 101, 1037, 102, 102, 0, 0, 0], batch.InputIds);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0], batch.TokenTypeIds);
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], batch.AttentionMask);
    }

    [Fact]
    public void EncodeBatch_SameAsEncodePerRow()
    {
        string?[] texts = ["Café naïve!", "x|y~z`", null, "hello[SEP]world 中丂文 😀", "The QUICK brown fox."];
        var batch = Tokenizer.EncodeBatch(texts, null, 9);

        for (int i = 0; i < texts.Length; i++)
        {
            var single = Tokenizer.Encode(texts[i], null, 9);
            var row = batch.InputIds.AsSpan(i * batch.SequenceLength, batch.SequenceLength);
            Assert.Equal(single.InputIds, row[..single.Length].ToArray());
            Assert.All(row[single.Length..].ToArray(), id => Assert.Equal(Tokenizer.PadId, id));
        }
    }

    [Fact]
    public void EncodeBatch_Empty_ZeroByZero()
    {
        var batch = Tokenizer.EncodeBatch([], null, 8);

        Assert.Equal([0L, 0L], batch.Shape);
        Assert.Empty(batch.InputIds);
    }

    [Fact]
    public void EncodeBatch_PairCountMismatch_ThrowsNamingPairs()
    {
        var e = Assert.Throws<ArgumentException>(() => Tokenizer.EncodeBatch(["a", "b"], ["c"], 8));

        Assert.Equal("pairs", e.ParamName);
    }
}
