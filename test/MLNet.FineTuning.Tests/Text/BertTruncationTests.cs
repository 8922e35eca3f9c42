using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Both of Hugging Face's longest_first rules, on the tables of their own sources.</summary>
public class BertTruncationTests
{
    [Theory]
    // tokenizers (Rust) utils/truncation.rs, test truncate_encodings_longest_first: max_length 7, lengths 0/2/4/8.
    [InlineData(0, 8, 0, 7)]
    [InlineData(2, 8, 2, 5)]
    [InlineData(4, 4, 3, 4)]
    [InlineData(4, 8, 3, 4)]
    [InlineData(8, 2, 5, 2)]
    [InlineData(8, 4, 4, 3)]
    [InlineData(8, 8, 3, 4)]
    [InlineData(2, 4, 2, 4)]
    public void LongestFirstFast_RustTable_SameKeptLengths(int first, int second, int keptFirst, int keptSecond) =>
        Assert.Equal((keptFirst, keptSecond), BertTruncation.LongestFirstFast(first, second, 7));

    [Theory]
    [InlineData(4, 4, 4, 3)] // the slow rule takes the tie's token from the second: the first keeps the odd one
    [InlineData(8, 8, 4, 3)]
    [InlineData(8, 4, 4, 3)]
    public void LongestFirst_Slow_OddTokenToFirst(int first, int second, int keptFirst, int keptSecond) =>
        Assert.Equal((keptFirst, keptSecond), BertTruncation.LongestFirst(first, second, 7));

    [Fact]
    public void LongestFirstFast_CappedAtEvenBudget_SameAsFullLengths()
    {
        // Why the saved chain tokenizes each segment only up to the budget when the budget is even.
        for (int budget = 0; budget <= 12; budget += 2)
            for (int a = 0; a <= 30; a++)
                for (int b = 0; b <= 30; b++)
                    Assert.Equal(BertTruncation.LongestFirstFast(a, b, budget),
                        BertTruncation.LongestFirstFast(Math.Min(a, budget), Math.Min(b, budget), budget));
    }

    [Fact]
    public void FastNeedsFullLengths_OnlyOddBudgetWithBothCapped()
    {
        for (int budget = 1; budget <= 11; budget += 2)
            for (int a = 0; a <= 20; a++)
                for (int b = 0; b <= 20; b++)
                {
                    bool same = BertTruncation.LongestFirstFast(a, b, budget) ==
                        BertTruncation.LongestFirstFast(Math.Min(a, budget), Math.Min(b, budget), budget);
                    Assert.True(same || BertTruncation.FastNeedsFullLengths(Math.Min(a, budget), Math.Min(b, budget), budget), $"{a}, {b}, budget {budget}");
                }
    }
}
