using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The first of a saved text model's tokenization steps: text → BERT words → every WordPiece candidate piece.
/// Column names, the candidate layout and the mapping; the contracts are the four factories
/// (<see cref="UncasedWordPieceCandidatesMapping"/>, <see cref="CasedWordPieceCandidatesMapping"/>,
/// <see cref="UncasedPairWordPieceCandidatesMapping"/>, <see cref="CasedPairWordPieceCandidatesMapping"/>).
/// </summary>
/// <remarks>
/// <para>
/// Why the tokenizer is split in steps (docs/text-saved-model.md): ML.NET persists a <c>CustomMapping</c> by its
/// contract name only, so it cannot carry a 30,522-token vocabulary; a public <c>MapValue</c> can, as its lookup
/// table inside model.zip. So this step, which needs no vocabulary, lists every piece that greedy longest-match
/// WordPiece could ask about; <c>MapValue</c> turns each into vocabulary id + 1 (0: not in the vocabulary); and
/// <see cref="WordPieceSelectMapping"/> picks the pieces greedy longest-match picks.
/// </para>
/// <para>
/// The candidate vector starts with a header of <see cref="HeaderLength"/> entries: <c>[CLS]</c>, <c>[SEP]</c>,
/// <c>[UNK]</c>, <c>[PAD]</c> (so their ids travel to the next step by the same lookup) and
/// <see cref="MaxLengthKey"/>, whose looked-up value is the maximum sequence length: configuration is data in
/// the lookup table. Then each word's candidates in <c>WordPieceLayout</c> order.
/// </para>
/// <para>
/// Casing and single-vs-pair input are part of the contract, not configuration, because this step runs before
/// the lookup and so cannot read it: lower-casing changes the words, and a pair of texts is two input columns.
/// </para>
/// </remarks>
public static class WordPieceCandidates
{
    /// <summary>Input: the text (copied from the user's column by the saved chain).</summary>
    public const string TextColumn = "__MLNetFineTuning_Text";

    /// <summary>Input of the pair contracts: the second text.</summary>
    public const string PairColumn = "__MLNetFineTuning_TextPair";

    /// <summary>Output: text vector, the header and then every word's candidate pieces.</summary>
    public const string CandidatesColumn = "__MLNetFineTuning_WordPieceCandidates";

    /// <summary>Output: int32 vector, each word's length in UTF-16 units (what the select step needs of the words).</summary>
    public const string WordLengthsColumn = "__MLNetFineTuning_WordLengths";

    /// <summary>Output: int32 vector, the number of words of each segment: one entry for a single text, two for a pair.</summary>
    public const string SegmentWordCountsColumn = "__MLNetFineTuning_SegmentWordCounts";

    /// <summary>
    /// The configuration key whose looked-up value is the maximum sequence length. It starts with U+0001, a control
    /// character that cleaning always removes, so no candidate piece can equal it.
    /// </summary>
    public const string MaxLengthKey = "\u0001maxlen";

    /// <summary>Number of header entries before the first word's candidates.</summary>
    public const int HeaderLength = 5;

    /// <summary>
    /// Most words listed per segment, and so the largest maximum sequence length the saved chain supports: each word
    /// gives at least one token, so 512 words cover any maximum length up to BERT's 512 positions.
    /// </summary>
    public const int MaxWordsPerSegment = 512;

    private static readonly ReadOnlyMemory<char>[] Header =
    [
        BertSpecialTokens.Cls.AsMemory(), BertSpecialTokens.Sep.AsMemory(), BertSpecialTokens.Unk.AsMemory(),
        BertSpecialTokens.Pad.AsMemory(), MaxLengthKey.AsMemory(),
    ];

    /// <summary>The single-text input.</summary>
    public sealed class TextInput
    {
        /// <summary>The text; empty (or missing) encodes as <c>[CLS] [SEP]</c>.</summary>
        [ColumnName(TextColumn)]
        public ReadOnlyMemory<char> Text { get; set; }
    }

    /// <summary>The text-pair input.</summary>
    public sealed class TextPairInput
    {
        /// <summary>The first text.</summary>
        [ColumnName(TextColumn)]
        public ReadOnlyMemory<char> Text { get; set; }

        /// <summary>The second text; empty gives an empty second segment (<c>[CLS] text [SEP] [SEP]</c>).</summary>
        [ColumnName(PairColumn)]
        public ReadOnlyMemory<char> Pair { get; set; }
    }

    /// <summary>The candidates and what the select step needs to find its way in them.</summary>
    public sealed class Output
    {
        /// <summary>The header, then every word's candidate pieces.</summary>
        [ColumnName(CandidatesColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> Candidates { get; set; }

        /// <summary>Each word's length in UTF-16 units, first segment then second.</summary>
        [ColumnName(WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment: one entry, or two for a pair.</summary>
        [ColumnName(SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];
    }

    /// <summary>The mapping of all four contracts: <paramref name="pair"/> is null for a single text.</summary>
    internal static void Map(BertWordSplitter splitter, ReadOnlyMemory<char> text, ReadOnlyMemory<char>? pair, Output output)
    {
        var words = new List<ReadOnlyMemory<char>>();
        int first = splitter.AppendWords(text.Span, MaxWordsPerSegment, words);
        output.SegmentWordCounts = pair is { } second ? [first, splitter.AppendWords(second.Span, MaxWordsPerSegment, words)] : [first];
        var lengths = new int[words.Count];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = words[i].Length;
        output.WordLengths = lengths;
        output.Candidates = WordPieceLayout.Candidates(Header, words);
    }
}
