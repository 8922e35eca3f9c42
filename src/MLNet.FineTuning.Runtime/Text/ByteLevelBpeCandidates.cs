using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The first of a saved RoBERTa-family model's tokenization steps: text → byte-level words (<c>ByteLevelWordSplitter</c>)
/// → every substring that BPE could make or ask about. Column names, the candidate layout and the mapping; the contracts
/// are the four factories (<see cref="ByteLevelBpeCandidatesMapping"/>, <see cref="PrefixSpaceByteLevelBpeCandidatesMapping"/>,
/// <see cref="PairByteLevelBpeCandidatesMapping"/>, <see cref="PrefixSpacePairByteLevelBpeCandidatesMapping"/>).
/// </summary>
/// <remarks>
/// <para>
/// The same design as WordPiece's (<see cref="WordPieceCandidates"/>, docs/text-saved-model.md): a <c>CustomMapping</c> is
/// saved by contract name only, so this step, which needs no vocabulary, lists candidates; a public <c>MapValue</c> looks
/// each up in a table saved in model.zip (<see cref="ByteLevelBpeLookup"/>: id and the merge that makes it); and
/// <see cref="ByteLevelBpeSelectMapping"/> runs BPE on the looked-up values.
/// </para>
/// <para>
/// The candidate vector starts with a header of <see cref="HeaderLength"/> entries: <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>
/// (their ids travel by the same lookup) and <see cref="WordPieceCandidates.MaxLengthKey"/>, whose looked-up value is
/// the maximum sequence length. Then each word's candidates in <c>ByteLevelBpeLayout</c> order.
/// </para>
/// <para>
/// The prefix space and single-vs-pair input are part of the contract, not configuration, because this step runs before
/// the lookup that carries the configuration.
/// </para>
/// </remarks>
public static class ByteLevelBpeCandidates
{
    /// <summary>Input: the text (copied from the user's column by the saved chain).</summary>
    public const string TextColumn = WordPieceCandidates.TextColumn;

    /// <summary>Input of the pair contracts: the second text.</summary>
    public const string PairColumn = WordPieceCandidates.PairColumn;

    /// <summary>Output: text vector, the header and then every word's candidate substrings.</summary>
    public const string CandidatesColumn = "__MLNetFineTuning_BpeCandidates";

    /// <summary>Output: int32 vector, each word's length in bytes, or <see cref="SpecialWordLength"/> for a special token.</summary>
    public const string WordLengthsColumn = "__MLNetFineTuning_BpeWordLengths";

    /// <summary>Output: int32 vector, the number of words of each segment: one entry for a single text, two for a pair.</summary>
    public const string SegmentWordCountsColumn = "__MLNetFineTuning_BpeSegmentWordCounts";

    /// <summary>The word length that marks a special token written in the text (one candidate: the token itself).</summary>
    public const int SpecialWordLength = -1;

    /// <summary>Number of header entries before the first word's candidates.</summary>
    public const int HeaderLength = 3;

    /// <summary>
    /// Most words listed per segment, and so the largest maximum sequence length the saved chain supports: each word gives
    /// at least one token, so 512 words cover any maximum length up to RoBERTa's 512 (514 positions, 2 reserved).
    /// </summary>
    public const int MaxWordsPerSegment = 512;

    private static readonly ReadOnlyMemory<char>[] Header =
        [RobertaSpecialTokens.Cls.AsMemory(), RobertaSpecialTokens.Sep.AsMemory(), WordPieceCandidates.MaxLengthKey.AsMemory()];

    /// <summary>The candidates and what the select step needs to find its way in them.</summary>
    public sealed class Output
    {
        /// <summary>The header, then every word's candidate substrings.</summary>
        [ColumnName(CandidatesColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> Candidates { get; set; }

        /// <summary>Each word's length in bytes (<see cref="SpecialWordLength"/> for a special token), first segment then second.</summary>
        [ColumnName(WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment: one entry, or two for a pair.</summary>
        [ColumnName(SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];
    }

    /// <summary>The mapping of all four contracts: <paramref name="pair"/> is null for a single text.</summary>
    internal static void Map(ByteLevelWordSplitter splitter, ReadOnlyMemory<char> text, ReadOnlyMemory<char>? pair, Output output)
    {
        var words = new List<ByteLevelWord>();
        int first = splitter.AppendWords(text.Span, MaxWordsPerSegment, words);
        output.SegmentWordCounts = pair is { } second ? [first, splitter.AppendWords(second.Span, MaxWordsPerSegment, words)] : [first];
        var lengths = new int[words.Count];
        for (int i = 0; i < lengths.Length; i++) lengths[i] = words[i].IsSpecial ? SpecialWordLength : words[i].Text.Length;
        output.WordLengths = lengths;
        output.Candidates = ByteLevelBpeLayout.Candidates(Header, words);
    }
}
