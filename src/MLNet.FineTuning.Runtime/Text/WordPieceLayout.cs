using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The order in which <see cref="WordPieceCandidates"/> lists a word's pieces, and greedy longest-match WordPiece
/// over the ids looked up for them (<see cref="WordPieceSelectMapping"/>): the two stateless steps agree on
/// positions through this one class, so no index travels between them.
/// </summary>
/// <remarks>
/// A word of length L (UTF-16 units) has every piece <c>word[s..e]</c>, 0 ≤ s &lt; e ≤ L, written <c>##word[s..e]</c>
/// when s &gt; 0: L(L+1)/2 of them, by start ascending, then end descending (the order greedy longest-match tries
/// them). That is every lookup greedy longest-match could make, whatever the vocabulary. A word longer than
/// <see cref="MaxCharsPerWord"/> has none: it is <c>[UNK]</c> without looking.
/// </remarks>
internal static class WordPieceLayout
{
    /// <summary>
    /// Longest word WordPiece splits; longer ones are <c>[UNK]</c>. HF's <c>max_input_chars_per_word</c> (100),
    /// counted in UTF-16 units as Microsoft.ML.Tokenizers counts it, so that the saved model gives the training
    /// tokenizer's ids (both give [UNK] unless a vocabulary has supplementary-plane tokens; BERT's has none).
    /// </summary>
    public const int MaxCharsPerWord = 100;

    /// <summary>The prefix of a piece that continues a word.</summary>
    public const string ContinuingPrefix = "##";

    /// <summary>How many candidates a word of <paramref name="length"/> characters has.</summary>
    public static int CandidateCount(int length) => length > MaxCharsPerWord ? 0 : length * (length + 1) / 2;

    /// <summary>Position of piece <c>[start..end)</c> among its word's candidates.</summary>
    public static int PieceIndex(int length, int start, int end) => start * length - start * (start - 1) / 2 + (length - end);

    /// <summary>
    /// <paramref name="header"/>, then every word's candidates. Pieces that start a word are slices of the word;
    /// the <c>##</c> pieces of a word share one buffer per start, so a row costs one char array.
    /// </summary>
    public static VBuffer<ReadOnlyMemory<char>> Candidates(ReadOnlySpan<ReadOnlyMemory<char>> header, List<ReadOnlyMemory<char>> words)
    {
        int count = header.Length, chars = 0;
        foreach (var word in words)
        {
            int length = word.Length;
            if (length > MaxCharsPerWord) continue;
            count += CandidateCount(length);
            chars += (length - 1) * (length + 2 * ContinuingPrefix.Length) / 2; // Σ over s ≥ 1 of (2 + L − s)
        }

        var values = new ReadOnlyMemory<char>[count];
        var buffer = new char[chars];
        header.CopyTo(values);
        int v = header.Length, p = 0;
        foreach (var word in words)
        {
            int length = word.Length;
            if (length > MaxCharsPerWord) continue;
            for (int end = length; end > 0; end--) values[v++] = word[..end];
            for (int start = 1; start < length; start++)
            {
                ContinuingPrefix.CopyTo(buffer.AsSpan(p));
                word.Span[start..].CopyTo(buffer.AsSpan(p + ContinuingPrefix.Length));
                var continuation = buffer.AsMemory(p, ContinuingPrefix.Length + length - start);
                p += continuation.Length;
                for (int end = length; end > start; end--) values[v++] = continuation[..(ContinuingPrefix.Length + end - start)];
            }
        }
        return new VBuffer<ReadOnlyMemory<char>>(count, values);
    }

    /// <summary>
    /// Greedy longest-match WordPiece of one word of <paramref name="length"/> characters, from the ids looked up
    /// for its candidates (<paramref name="lookedUp"/> = id + 1, 0 = not in the vocabulary). Appends its ids; a
    /// word that cannot be covered, or is too long, gives <paramref name="unkId"/> alone (as HF).
    /// </summary>
    public static void Select(ReadOnlySpan<int> lookedUp, int length, int unkId, List<long> into)
    {
        if (length > MaxCharsPerWord)
        {
            into.Add(unkId);
            return;
        }
        int first = into.Count;
        for (int start = 0; start < length;)
        {
            int end = length;
            for (; end > start; end--)
            {
                int id = lookedUp[PieceIndex(length, start, end)];
                if (id == 0) continue;
                into.Add(id - 1);
                break;
            }
            if (end == start)
            {
                into.RemoveRange(first, into.Count - first);
                into.Add(unkId);
                return;
            }
            start = end;
        }
    }
}
