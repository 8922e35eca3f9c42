using System.Text;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Truncation to maxLength and text pairs. Ids as in <see cref="BertTextTokenizerIdsTests"/>.</summary>
public class BertTextTokenizerTruncationTests
{
    // the 1996, quick 4248, brown 2829, fox 4419, jumps 14523, over 2058, the 1996, lazy 13971, dog 3899: 9 tokens.
    private const string Fox = "the quick brown fox jumps over the lazy dog";

    private static BertTextTokenizer Tokenizer => BertVocabulary.Uncased;

    [Fact]
    public void Encode_OverMaxLength_TruncatedWithSepLast()
    {
        var encoding = Tokenizer.Encode(Fox, null, 6);

        Assert.Equal([101, 1996, 4248, 2829, 4419, 102], encoding.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 0], encoding.TokenTypeIds);
        Assert.Equal([1, 1, 1, 1, 1, 1], encoding.AttentionMask);
        Assert.Equal([101, 102], Tokenizer.Encode(Fox, null, 2).InputIds);
    }

    [Fact]
    public void Encode_Pair_SecondSegmentHasTokenType1()
    {
        // hello 7592, world 2088 | good 2204, morning 2851.
        var encoding = Tokenizer.Encode("hello world", "good morning", 64);

        Assert.Equal([101, 7592, 2088, 102, 2204, 2851, 102], encoding.InputIds);
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], encoding.TokenTypeIds);
        Assert.Equal([101, 7592, 102, 102], Tokenizer.Encode("hello", "", 64).InputIds);
    }

    [Fact]
    public void Encode_PairOverMaxLength_TrimsLongerFirst()
    {
        // maxLength 8 leaves 5 tokens for 9 + 2: all 6 removals hit the longer first segment.
        var encoding = Tokenizer.Encode(Fox, "good morning", 8);

        Assert.Equal([101, 1996, 4248, 2829, 102, 2204, 2851, 102], encoding.InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], encoding.TokenTypeIds);
    }

    [Fact]
    public void Encode_PairTie_TrimsSecondOnTie()
    {
        // 4 + 4 tokens into 5: (4,4) tie → second (4,3); first longer → (3,3); tie → second (3,2), as HF's loop.
        // a 1037, b 1038, c 1039, d 1040 | w 1059, x 1060, y 1061, z 1062.
        var encoding = Tokenizer.Encode("a b c d", "w x y z", 8);

        Assert.Equal([101, 1037, 1038, 1039, 102, 1059, 1060, 102], encoding.InputIds);
    }

    [Fact]
    public void LongestFirst_SegmentsCappedAtBudget_SameResult()
    {
        // The tokenizer only tokenizes each segment up to the budget; this is why that gives HF's lengths.
        for (int first = 0; first <= 24; first++)
            for (int second = 0; second <= 24; second++)
                for (int budget = 0; budget <= 20; budget++)
                    Assert.Equal(BertTruncation.LongestFirst(first, second, budget),
                        BertTruncation.LongestFirst(Math.Min(first, budget), Math.Min(second, budget), budget));
    }

    [Fact]
    public void Encode_LongTextAnyMaxLength_PrefixOfFullEncoding()
    {
        // ~40,000 characters with newlines, punctuation, accents and special tokens: long enough that a small
        // maxLength tokenizes it in chunks, which must not change any id.
        var text = new StringBuilder();
        for (int i = 0; i < 1200; i++)
            text.Append(i % 7 == 0 ? "Naïve café, " : "word-").Append(i).Append(i % 50 == 0 ? " [SEP]\n" : " $x_y\t");
        long[] full = Tokenizer.Encode(text.ToString(), null, int.MaxValue).InputIds;
        Assert.True(full.Length > 6000);

        foreach (int maxLength in new[] { 3, 17, 128, 512, 3001 })
        {
            long[] expected = [.. full.Take(maxLength - 1), 102];
            Assert.Equal(expected, Tokenizer.Encode(text.ToString(), null, maxLength).InputIds);
        }
    }

    [Fact]
    public void Encode_MaxLengthTooSmall_Throws()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("a", null, 1));
        Assert.Equal("maxLength", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Encode("a", "b", 2));
    }
}
