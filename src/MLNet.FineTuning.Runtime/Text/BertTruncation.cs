namespace MLNet.FineTuning.Runtime.Text;

/// <summary>How a text pair is cut to the maximum length, shared by the training tokenizers and the saved model.</summary>
/// <remarks>
/// Hugging Face has two "longest_first" rules, which differ only when both segments are cut and the budget is odd:
/// the slow Python tokenizers (<see cref="LongestFirst"/>, what <see cref="BertTextTokenizer"/> follows) give the odd
/// token to the first segment; the Rust tokenizers behind every <c>…TokenizerFast</c> (<see cref="LongestFirstFast"/>,
/// what <see cref="RobertaTextTokenizer"/> follows) give it to the longer one, to the second on a tie.
/// </remarks>
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

    /// <summary>
    /// The Rust <c>tokenizers</c>' "longest_first" (utils/truncation.rs, <c>truncate_encodings</c>): when the pair is
    /// over <paramref name="budget"/>, the shorter segment keeps all its tokens if it has at most half the budget and
    /// the longer one gets the rest; otherwise the shorter keeps ⌊budget/2⌋ and the longer ⌈budget/2⌉ (first = shorter
    /// on a tie). Returns the kept lengths.
    /// </summary>
    /// <remarks>
    /// Capping both lengths at the budget first changes the result only when both reach it and the budget is odd (then
    /// which one is longer decides who keeps the extra token): see <see cref="FastNeedsFullLengths"/>.
    /// </remarks>
    public static (int First, int Second) LongestFirstFast(int first, int second, int budget)
    {
        if (first + second <= budget) return (first, second);
        bool swap = first > second;
        int shorter = swap ? second : first;
        int keptShorter, keptLonger;
        if (shorter <= budget - shorter)
            (keptShorter, keptLonger) = (shorter, budget - shorter);
        else
            (keptShorter, keptLonger) = (budget / 2, budget / 2 + budget % 2);
        return swap ? (keptLonger, keptShorter) : (keptShorter, keptLonger);
    }

    /// <summary>
    /// Whether <see cref="LongestFirstFast"/> needs the segments' full lengths, given each tokenized only up to
    /// <paramref name="budget"/> tokens: only when both reached it and the budget is odd.
    /// </summary>
    public static bool FastNeedsFullLengths(int firstCapped, int secondCapped, int budget) =>
        budget % 2 == 1 && firstCapped >= budget && secondCapped >= budget;
}
