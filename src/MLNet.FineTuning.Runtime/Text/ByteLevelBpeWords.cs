using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The first of a saved RoBERTa-family model's tokenization steps: text → byte-level words (<c>ByteLevelWordSplitter</c>)
/// and every byte pair inside them. Column names and the mapping; the contracts are the four factories
/// (<see cref="ByteLevelBpeWordsMapping"/>, <see cref="PrefixSpaceByteLevelBpeWordsMapping"/>,
/// <see cref="PairByteLevelBpeWordsMapping"/>, <see cref="PrefixSpacePairByteLevelBpeWordsMapping"/>).
/// </summary>
/// <remarks>
/// <para>
/// The same design as WordPiece's (<see cref="WordPieceCandidates"/>, docs/text-saved-model.md): a <c>CustomMapping</c> is
/// saved by contract name only, so the vocabulary and merges travel as public <c>MapValue</c> lookup tables inside
/// model.zip, and the stateless steps list what to look up. Byte-level BPE needs two lookups
/// (<see cref="ByteLevelBpeLookup"/>): this step lists each word's adjacent byte pairs, the first lookup says which pairs
/// can sit inside a token (elsewhere BPE never merges, so words fall apart into independent pieces) and how long a token
/// starting with them can be; <see cref="ByteLevelBpePiecesMapping"/> then lists only the substrings that BPE could
/// form, the second lookup gives their ids and merges, and <see cref="ByteLevelBpeSelectMapping"/> runs BPE.
/// </para>
/// <para>
/// The pair vector starts with <see cref="WordPieceCandidates.MaxLengthKey"/>, whose looked-up value is the maximum sequence
/// length. The prefix space and single-vs-pair input are part of the contract, not configuration, because this step runs
/// before any lookup.
/// </para>
/// </remarks>
public static class ByteLevelBpeWords
{
    /// <summary>Input: the text (copied from the user's column by the saved chain).</summary>
    public const string TextColumn = WordPieceCandidates.TextColumn;

    /// <summary>Input of the pair contracts: the second text.</summary>
    public const string PairColumn = WordPieceCandidates.PairColumn;

    /// <summary>Output: text vector, the words: pre-tokens in GPT-2's byte alphabet and special tokens.</summary>
    public const string WordsColumn = "__MLNetFineTuning_BpeWords";

    /// <summary>Output: int32 vector, each word's length in bytes, or <see cref="SpecialWordLength"/> for a special token.</summary>
    public const string WordLengthsColumn = "__MLNetFineTuning_BpeWordLengths";

    /// <summary>Output: int32 vector, the number of words of each segment: one entry for a single text, two for a pair.</summary>
    public const string SegmentWordCountsColumn = "__MLNetFineTuning_BpeSegmentWordCounts";

    /// <summary>Output: text vector, <see cref="WordPieceCandidates.MaxLengthKey"/> and then each pre-token's n − 1 adjacent byte pairs.</summary>
    public const string BytePairsColumn = "__MLNetFineTuning_BpeBytePairs";

    /// <summary>The word length that marks a special token written in the text.</summary>
    public const int SpecialWordLength = -1;

    /// <summary>
    /// Most words listed per segment, and so the largest maximum sequence length the saved chain supports: each word gives
    /// at least one token, so 512 words cover any maximum length up to RoBERTa's 512 (514 positions, 2 reserved).
    /// </summary>
    public const int MaxWordsPerSegment = 512;

    /// <summary>The words, their layout and their byte pairs.</summary>
    public sealed class Output
    {
        /// <summary>The words, first segment then second.</summary>
        [ColumnName(WordsColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> Words { get; set; }

        /// <summary>Each word's length in bytes (<see cref="SpecialWordLength"/> for a special token).</summary>
        [ColumnName(WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment: one entry, or two for a pair.</summary>
        [ColumnName(SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];

        /// <summary>The configuration key, then every pre-token's byte pairs in order.</summary>
        [ColumnName(BytePairsColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> BytePairs { get; set; }
    }

    /// <summary>The mapping of all four contracts: <paramref name="pair"/> is null for a single text.</summary>
    internal static void Map(ByteLevelWordSplitter splitter, ReadOnlyMemory<char> text, ReadOnlyMemory<char>? pair, Output output)
    {
        var words = new List<ByteLevelWord>();
        int first = splitter.AppendWords(text.Span, MaxWordsPerSegment, words);
        output.SegmentWordCounts = pair is { } second ? [first, splitter.AppendWords(second.Span, MaxWordsPerSegment, words)] : [first];

        var lengths = new int[words.Count];
        var values = new ReadOnlyMemory<char>[words.Count];
        int pairs = 1;
        for (int i = 0; i < words.Count; i++)
        {
            values[i] = words[i].Text.AsMemory();
            lengths[i] = words[i].IsSpecial ? SpecialWordLength : words[i].Text.Length;
            if (!words[i].IsSpecial) pairs += lengths[i] - 1;
        }
        var bytePairs = new ReadOnlyMemory<char>[pairs];
        bytePairs[0] = WordPieceCandidates.MaxLengthKey.AsMemory();
        int p = 1;
        for (int i = 0; i < words.Count; i++)
            for (int start = 0; start + 1 < lengths[i]; start++) bytePairs[p++] = values[i].Slice(start, 2);

        output.Words = new VBuffer<ReadOnlyMemory<char>>(values.Length, values);
        output.WordLengths = lengths;
        output.BytePairs = new VBuffer<ReadOnlyMemory<char>>(pairs, bytePairs);
    }
}
