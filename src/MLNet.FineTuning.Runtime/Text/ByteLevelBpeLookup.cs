namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// What the saved model's lookup table (a public <c>MapValue</c>, docs/text-saved-model.md) holds for byte-level BPE: for
/// every token, one int64 that packs its id and the merge that makes it, so that <see cref="ByteLevelBpeSelectMapping"/>
/// can re-run BPE from looked-up values alone.
/// </summary>
/// <remarks>
/// <para>
/// Why the merge can be found from the token: in a BPE vocabulary every merge makes its own token (GPT-2's 50,000 merges
/// make 50,000 distinct tokens), so two adjacent symbols <c>a</c>, <c>b</c> merge iff the token <c>a+b</c> exists and the
/// merge that makes it splits it after <c>len(a)</c> characters; its rank is that merge's. A vocabulary where two merges
/// make the same string breaks this and is refused (<see cref="Entries"/>).
/// </para>
/// <para>
/// Packing: bits 0–31 id + 1 (0: not a token); bits 32–55 merge rank + 1 (0: no merge makes it: single bytes, special
/// tokens); bits 56–62 the length of the merge's left part. Lengths count characters of GPT-2's byte alphabet, one per
/// UTF-8 byte.
/// </para>
/// </remarks>
internal static class ByteLevelBpeLookup
{
    /// <summary>
    /// Longest token a merge may make, in bytes; the candidates step lists every substring up to this length. GPT-2's (and
    /// so RoBERTa's) longest is 128 bytes (a run of "ÃÂ"); the left part's length must fit 7 bits.
    /// </summary>
    public const int MaxTokenChars = 128;

    private const int MaxMerges = (1 << 24) - 1;

    public static long Pack(int id, int rank, int leftLength) =>
        (uint)(id + 1) | (long)(rank + 1) << 32 | (long)leftLength << 56;

    /// <summary>The token's id, or -1 when the candidate is not a token.</summary>
    public static int Id(long value) => (int)(uint)value - 1;

    /// <summary>The rank of the merge that makes the token, or -1 when none does.</summary>
    public static int MergeRank(long value) => (int)((value >> 32) & 0xFFFFFF) - 1;

    /// <summary>Where that merge splits the token.</summary>
    public static int LeftLength(long value) => (int)((value >> 56) & 0x7F);

    /// <summary>
    /// The lookup entries of a vocabulary and its merges (rank = list index): token → packed value.
    /// </summary>
    /// <exception cref="ArgumentException">A special token or a byte is missing, a merge names a token the vocabulary lacks, two merges make one token, or a merge makes one longer than <see cref="MaxTokenChars"/>.</exception>
    public static Dictionary<string, long> Entries(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges)
    {
        foreach (string token in RobertaSpecialTokens.All)
            if (!vocabulary.ContainsKey(token))
                throw new ArgumentException($"The vocabulary has no '{token}'; RoBERTa needs {string.Join(", ", RobertaSpecialTokens.All)}.", nameof(vocabulary));
        for (int b = 0; b < 256; b++)
            if (!vocabulary.ContainsKey(ByteLevelAlphabet.Map((byte)b).ToString()))
                throw new ArgumentException($"The vocabulary has no token for byte 0x{b:X2}; a byte-level BPE vocabulary has all 256.", nameof(vocabulary));
        if (merges.Count > MaxMerges)
            throw new ArgumentException($"{merges.Count} merges; the saved chain packs ranks in 24 bits (at most {MaxMerges}).", nameof(merges));

        var entries = new Dictionary<string, long>(vocabulary.Count, StringComparer.Ordinal);
        foreach (var (token, id) in vocabulary)
        {
            Check.Range(id >= 0 && id < int.MaxValue, nameof(vocabulary), "ids in [0, int.MaxValue)", $"'{token}' → {id}");
            entries.Add(token, Pack(id, -1, 0));
        }
        var madeBy = new Dictionary<string, int>(merges.Count, StringComparer.Ordinal);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            string token = left + right;
            foreach (string part in new[] { left, right, token })
                if (string.IsNullOrEmpty(part) || !vocabulary.ContainsKey(part))
                    throw new ArgumentException($"Merge {rank} (\"{left} {right}\"): '{part}' is not in the vocabulary; every merge's parts and result must be tokens.", nameof(merges));
            if (token.Length > MaxTokenChars)
                throw new ArgumentException($"Merge {rank} makes '{token}' of {token.Length} bytes; the saved chain lists candidates of up to {MaxTokenChars}.", nameof(merges));
            if (!madeBy.TryAdd(token, rank))
                throw new ArgumentException($"Merges {madeBy[token]} and {rank} both make '{token}'; the saved chain finds a merge by the token it makes, so each must make its own.", nameof(merges));
            entries[token] = Pack(vocabulary[token], rank, left.Length);
        }
        return entries;
    }
}
