using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// Which substrings <see cref="ByteLevelBpePiecesMapping"/> lists for BPE, in what order, and BPE over the values
/// looked up for them (<see cref="ByteLevelBpeSelectMapping"/>): both stateless steps agree on positions through this one
/// class and the layout vector it writes, so no index travels between them.
/// </summary>
/// <remarks>
/// <para>
/// A word is cut into pieces where its adjacent bytes form a pair that no merge-made token contains (BPE never merges
/// there: <see cref="ByteLevelBpeLookup"/>). In a piece of L bytes, start s lists the substrings of 1 to c(s) bytes, by
/// start then length, where c(s) = min(L − s, the longest merge-made token that starts with bytes s and s + 1, at least
/// 1): every symbol BPE can make there and every pair it can ask about. A special token written in the text is one
/// candidate, itself.
/// </para>
/// <para>
/// A long piece that repeats with a short period p (a run of '-' has p = 1, mojibake "ÃÂÃÂ…" p = 2) has the same
/// substrings at s and s mod p, so it lists only its first p starts: a 100,000-byte run of '-' costs 128 candidates, not
/// 12.8 million (GPT-2 has '-' tokens up to 128 bytes).
/// </para>
/// <para>
/// The layout vector holds, per unit, <c>-1</c> for a special token, <c>L, c(0), …, c(L−1)</c> for a piece, or
/// <c>-2, L, p, c(0), …, c(p−1)</c> for a periodic piece; a second vector holds the units per segment.
/// </para>
/// </remarks>
internal static class ByteLevelBpeLayout
{
    /// <summary>The layout value of a special token.</summary>
    public const int Special = -1;

    /// <summary>The layout value that starts a periodic piece.</summary>
    public const int Periodic = -2;

    /// <summary>Longest period looked for, and shortest piece worth it (a start lists at most 128 candidates).</summary>
    private const int MaxPeriod = 8, MinPeriodicLength = 2 * ByteLevelBpeLookup.MaxTokenChars;

    /// <summary>
    /// <paramref name="header"/>, then the candidates of the first <paramref name="budget"/> units of each segment (every
    /// unit gives at least one token), as slices of the words: no copy. <paramref name="pairValues"/> are the looked-up
    /// values of each pre-token's byte pairs, in <see cref="ByteLevelBpeWords"/> order.
    /// </summary>
    public static (VBuffer<ReadOnlyMemory<char>> Candidates, int[] Layout, int[] SegmentUnits) Candidates(
        ReadOnlySpan<ReadOnlyMemory<char>> header, ReadOnlySpan<ReadOnlyMemory<char>> words, int[] wordLengths,
        int[] segmentWords, ReadOnlySpan<int> pairValues, int budget)
    {
        var candidates = new List<ReadOnlyMemory<char>>(header.Length + 16 * words.Length);
        foreach (var entry in header) candidates.Add(entry);
        var layout = new List<int>(2 * words.Length);
        var segmentUnits = new int[segmentWords.Length];
        int word = 0, pair = 0;
        for (int segment = 0; segment < segmentWords.Length; segment++)
        {
            int units = 0;
            for (int end = word + segmentWords[segment]; word < end; word++)
            {
                int length = wordLengths[word];
                if (length == ByteLevelBpeWords.SpecialWordLength)
                {
                    if (units >= budget) continue;
                    units++;
                    candidates.Add(words[word]);
                    layout.Add(Special);
                    continue;
                }
                var pairs = pairValues.Slice(pair, length - 1);
                pair += length - 1;
                for (int start = 0; start < length && units < budget; units++)
                {
                    int stop = start + 1;
                    while (stop < length && (pairs[stop - 1] & ByteLevelBpeLookup.InsideToken) != 0) stop++;
                    AddPiece(words[word][start..stop], pairs[start..(stop - 1)], candidates, layout);
                    start = stop;
                }
            }
            segmentUnits[segment] = units;
        }
        return (new VBuffer<ReadOnlyMemory<char>>(candidates.Count, [.. candidates]), [.. layout], segmentUnits);
    }

    /// <summary>Lists a piece's candidates and appends its layout: its length, then how many candidates each start has.</summary>
    private static void AddPiece(ReadOnlyMemory<char> piece, ReadOnlySpan<int> pairs, List<ReadOnlyMemory<char>> candidates, List<int> layout)
    {
        int period = Period(piece.Span);
        if (period > 0)
        {
            layout.Add(Periodic);
            layout.Add(piece.Length);
            layout.Add(period);
        }
        else layout.Add(piece.Length);
        for (int start = 0; start < (period > 0 ? period : piece.Length); start++)
        {
            int longest = start + 1 < piece.Length ? ByteLevelBpeLookup.LongestStartingWith(pairs[start]) : 1;
            int count = Math.Clamp(longest, 1, piece.Length - start);
            layout.Add(count);
            for (int length = 1; length <= count; length++) candidates.Add(piece.Slice(start, length));
        }
    }

    /// <summary>The smallest period (up to <see cref="MaxPeriod"/>) of a piece long enough to be worth it, or 0.</summary>
    private static int Period(ReadOnlySpan<char> piece)
    {
        if (piece.Length < MinPeriodicLength) return 0;
        for (int period = 1; period <= MaxPeriod; period++)
            if (piece[period..].SequenceEqual(piece[..^period])) return period;
        return 0;
    }

    /// <summary>
    /// Checks the piece whose layout starts at <paramref name="at"/> (not a special token) and moves past it;
    /// <paramref name="listed"/> is how many candidates it listed.
    /// </summary>
    /// <returns><see langword="false"/> when the layout is malformed (the chain was not built by MLNet.FineTuning).</returns>
    public static bool SkipPiece(int[] layout, ref int at, out int listed)
    {
        listed = 0;
        bool periodic = layout[at] == Periodic;
        if (periodic) at++;
        int length = at < layout.Length ? layout[at++] : 0;
        int period = periodic ? (at < layout.Length ? layout[at++] : 0) : length;
        if (length <= 0 || period <= 0 || period > length || at + period > layout.Length) return false;
        for (int s = 0; s < period; s++, at++)
        {
            if (layout[at] < 1 || layout[at] > length - s) return false;
            listed += layout[at];
        }
        return true;
    }

    /// <summary>
    /// For the checked piece whose layout starts at <paramref name="at"/>: per start, the index of its first candidate and
    /// how many it has. In a p-periodic piece the substring at s is the one at s mod p, at most as long as the bytes left.
    /// </summary>
    public static (int[] Offsets, int[] Counts) ExpandPiece(int[] layout, int at)
    {
        bool periodic = layout[at] == Periodic;
        if (periodic) at++;
        int length = layout[at++];
        int period = periodic ? layout[at++] : length;
        var listedCounts = layout.AsSpan(at, period);
        var first = new int[period];
        for (int s = 1; s < period; s++) first[s] = first[s - 1] + listedCounts[s - 1];
        var offsets = new int[length];
        var counts = new int[length];
        for (int s = 0; s < length; s++)
        {
            offsets[s] = first[s % period];
            counts[s] = Math.Min(listedCounts[s % period], length - s);
        }
        return (offsets, counts);
    }

    /// <summary>
    /// BPE of one piece from its candidates' looked-up values (<paramref name="lookedUp"/>) and, per start, the index of
    /// its first candidate and how many it has (<see cref="ExpandPiece"/>): start from one symbol per byte and merge the
    /// adjacent pair of lowest rank, leftmost first, until no pair merges; appends the ids.
    /// </summary>
    /// <remarks>
    /// The same order as Hugging Face's <c>Word::merge_all</c> (a priority queue of (rank, position), stale entries
    /// skipped), so the ids are HF's. O(n log n) for a piece of n bytes.
    /// </remarks>
    public static void Merge(ReadOnlySpan<long> lookedUp, int[] offset, int[] counts, List<long> into)
    {
        int length = counts.Length;
        // end[s]: where the symbol that starts at s ends (0 once merged into its left neighbour); previous[s]: its left neighbour.
        var end = new int[length];
        var previous = new int[length];
        var queue = new PriorityQueue<(int Start, int Middle, int End), long>();
        for (int i = 0; i < length; i++)
        {
            end[i] = i + 1;
            previous[i] = i - 1;
        }
        for (int i = 0; i + 1 < length; i++) Enqueue(lookedUp, counts, offset, i, i + 1, i + 2, queue);

        while (queue.TryDequeue(out var pair, out _))
        {
            if (end[pair.Start] != pair.Middle || end[pair.Middle] != pair.End) continue; // a symbol of it merged since
            end[pair.Start] = pair.End;
            end[pair.Middle] = 0;
            if (pair.End < length) previous[pair.End] = pair.Start;
            if (previous[pair.Start] >= 0) Enqueue(lookedUp, counts, offset, previous[pair.Start], pair.Start, pair.End, queue);
            if (pair.End < length) Enqueue(lookedUp, counts, offset, pair.Start, pair.End, end[pair.End], queue);
        }
        for (int start = 0; start < length; start = end[start])
            into.Add(ByteLevelBpeLookup.Id(lookedUp[offset[start] + end[start] - start - 1]));
    }

    /// <summary>Queues symbols [start, middle) + [middle, end) when a merge makes exactly that pair.</summary>
    private static void Enqueue(ReadOnlySpan<long> lookedUp, int[] counts, int[] offset, int start, int middle, int end,
        PriorityQueue<(int, int, int), long> queue)
    {
        if (end - start > counts[start]) return; // longer than any merge-made token starting there
        long value = lookedUp[offset[start] + end - start - 1];
        int rank = ByteLevelBpeLookup.MergeRank(value);
        if (rank >= 0 && ByteLevelBpeLookup.LeftLength(value) == middle - start) queue.Enqueue((start, middle, end), (long)rank << 32 | (uint)start);
    }
}
