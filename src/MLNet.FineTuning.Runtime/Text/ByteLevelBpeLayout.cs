using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The order in which <see cref="ByteLevelBpeCandidates"/> lists a word's candidate substrings, and BPE over the values
/// looked up for them (<see cref="ByteLevelBpeSelectMapping"/>): both stateless steps agree on positions through this
/// one class, so no index travels between them.
/// </summary>
/// <remarks>
/// A pre-token of n bytes has every substring of 1 to <see cref="ByteLevelBpeLookup.MaxTokenChars"/> (K) bytes, by start
/// ascending, then length ascending: Σₛ min(K, n − s) of them, n(n+1)/2 when n ≤ K. Those are all the symbols BPE can
/// make and all the pairs it can ask about. A special token written in the text is one candidate, itself.
/// </remarks>
internal static class ByteLevelBpeLayout
{
    private const int K = ByteLevelBpeLookup.MaxTokenChars;

    /// <summary>How many candidates a pre-token of <paramref name="length"/> bytes has.</summary>
    public static int CandidateCount(int length) => Offset(length, length);

    /// <summary>Position of the substring <c>[start, start + count)</c> among its pre-token's candidates.</summary>
    public static int Index(int length, int start, int count) => Offset(length, start) + count - 1;

    /// <summary>How many candidates start before <paramref name="start"/>: starts below n − K have K each, later ones n − s.</summary>
    private static int Offset(int length, int start)
    {
        int full = Math.Max(0, length - K);
        if (start <= full) return checked(start * K);
        return checked(full * K + Triangle(length - full) - Triangle(length - start));
    }

    private static int Triangle(int x) => x * (x + 1) / 2;

    /// <summary><paramref name="header"/>, then every word's candidates (slices of the word: no copy).</summary>
    public static VBuffer<ReadOnlyMemory<char>> Candidates(ReadOnlySpan<ReadOnlyMemory<char>> header, List<ByteLevelWord> words)
    {
        int count = header.Length;
        // checked: a pre-token of over 16 million bytes would overflow the count (see docs/text-saved-model.md, cost).
        foreach (var word in words) count = checked(count + (word.IsSpecial ? 1 : CandidateCount(word.Text.Length)));
        var values = new ReadOnlyMemory<char>[count];
        header.CopyTo(values);
        int v = header.Length;
        foreach (var word in words)
        {
            var text = word.Text.AsMemory();
            if (word.IsSpecial)
            {
                values[v++] = text;
                continue;
            }
            for (int start = 0; start < text.Length; start++)
                for (int length = 1, most = Math.Min(K, text.Length - start); length <= most; length++)
                    values[v++] = text.Slice(start, length);
        }
        return new VBuffer<ReadOnlyMemory<char>>(count, values);
    }

    /// <summary>
    /// BPE of one pre-token of <paramref name="length"/> bytes from its candidates' looked-up values: start from one symbol
    /// per byte and merge the adjacent pair of lowest rank, leftmost first, until no pair merges; appends the ids.
    /// </summary>
    /// <remarks>
    /// The same order as Hugging Face's <c>Word::merge_all</c> (a priority queue of (rank, position), stale entries
    /// skipped), so the ids are HF's. O(n log n) for a pre-token of n bytes.
    /// </remarks>
    public static void Merge(ReadOnlySpan<long> lookedUp, int length, List<long> into)
    {
        // end[s]: where the symbol that starts at s ends (0 once merged into its left neighbour); previous[s]: its left neighbour.
        var end = new int[length];
        var previous = new int[length];
        var queue = new PriorityQueue<(int Start, int Middle, int End), long>();
        for (int i = 0; i < length; i++)
        {
            end[i] = i + 1;
            previous[i] = i - 1;
        }
        for (int i = 0; i + 1 < length; i++) Enqueue(lookedUp, length, i, i + 1, i + 2, queue);

        while (queue.TryDequeue(out var pair, out _))
        {
            if (end[pair.Start] != pair.Middle || end[pair.Middle] != pair.End) continue; // a symbol of it merged since
            end[pair.Start] = pair.End;
            end[pair.Middle] = 0;
            if (pair.End < length) previous[pair.End] = pair.Start;
            if (previous[pair.Start] >= 0) Enqueue(lookedUp, length, previous[pair.Start], pair.Start, pair.End, queue);
            if (pair.End < length) Enqueue(lookedUp, length, pair.Start, pair.End, end[pair.End], queue);
        }
        for (int start = 0; start < length; start = end[start])
            into.Add(ByteLevelBpeLookup.Id(lookedUp[Index(length, start, end[start] - start)]));
    }

    /// <summary>Queues symbols [start, middle) + [middle, end) when a merge makes exactly that pair.</summary>
    private static void Enqueue(ReadOnlySpan<long> lookedUp, int length, int start, int middle, int end, PriorityQueue<(int, int, int), long> queue)
    {
        if (end - start > K) return;
        long value = lookedUp[Index(length, start, end - start)];
        int rank = ByteLevelBpeLookup.MergeRank(value);
        if (rank >= 0 && ByteLevelBpeLookup.LeftLength(value) == middle - start) queue.Enqueue((start, middle, end), (long)rank << 32 | (uint)start);
    }
}
