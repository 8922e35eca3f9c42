namespace MLNet.FineTuning.Runtime.Text;

/// <summary>How a text pair is cut to the maximum length, shared by the training tokenizer and the saved model.</summary>
internal static class BertTruncation
{
    /// <summary>
    /// HF's "longest_first" truncation of a pair to <paramref name="budget"/> tokens: one token at a time from
    /// the longer segment, from the second on a tie. Returns the kept lengths.
    /// </summary>
    /// <remarks>
    /// Capping either length at the budget first gives the same result (longest_first never keeps more than the
    /// budget of either segment, and removes tokens beyond it first), which is why a segment need only be
    /// tokenized up to the budget.
    /// </remarks>
    public static (int First, int Second) LongestFirst(int first, int second, int budget)
    {
        for (int excess = first + second - budget; excess > 0; excess--)
        {
            if (first > second) first--;
            else second--;
        }
        return (first, second);
    }
}
