using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The last of a saved RoBERTa-family model's tokenization steps: the values looked up for the candidate substrings
/// (<see cref="ByteLevelBpeCandidates"/>, <see cref="ByteLevelBpeLookup"/>) → BPE per word, the Rust tokenizers'
/// longest_first truncation of a pair, <c>&lt;s&gt; A &lt;/s&gt;(&lt;/s&gt; B &lt;/s&gt;)</c> → the three int64 inputs,
/// named as the exported ONNX model's, exactly as <see cref="RobertaTextTokenizer.Encode"/> gives them.
/// </summary>
/// <remarks>
/// Stateless, so that ML.NET can persist it by contract name (docs/text-saved-model.md): ids, merges, the special tokens'
/// ids and the maximum length all arrive in <see cref="CandidateIdsColumn"/> from the lookup table saved in model.zip. It
/// re-derives each word's candidate positions from the word lengths alone (<c>ByteLevelBpeLayout</c>). The outputs are
/// variable-length, unpadded: ML.NET scores one row at a time.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ByteLevelBpeSelectMapping : CustomMappingFactory<ByteLevelBpeSelectMapping.Input, WordPieceSelectMapping.Output>
{
    /// <summary>The contract name stored in saved models. Never change it: saved models refer to it.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeSelect/1";

    /// <summary>Input: int64 vector, one looked-up value per candidate (<see cref="ByteLevelBpeLookup"/>'s packing; the maximum length for <see cref="WordPieceCandidates.MaxLengthKey"/>).</summary>
    public const string CandidateIdsColumn = "__MLNetFineTuning_BpeCandidateIds";

    /// <summary>The looked-up values and the word layout of <see cref="ByteLevelBpeCandidates.Output"/>.</summary>
    public sealed class Input
    {
        /// <summary>One looked-up value per candidate.</summary>
        [ColumnName(CandidateIdsColumn), VectorType]
        public VBuffer<long> CandidateIds { get; set; }

        /// <summary>Each word's length in bytes, or <see cref="ByteLevelBpeCandidates.SpecialWordLength"/>.</summary>
        [ColumnName(ByteLevelBpeCandidates.WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment: one entry, or two for a pair.</summary>
        [ColumnName(ByteLevelBpeCandidates.SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];
    }

    /// <summary>The mapping itself.</summary>
    /// <exception cref="InvalidOperationException">The looked-up values do not fit the word layout, or the lookup table lacks the special tokens or a valid maximum length: the chain was not built by MLNet.FineTuning.</exception>
    public static void Map(Input input, WordPieceSelectMapping.Output output)
    {
        var lookedUp = input.CandidateIds.GetValues();
        var lengths = input.WordLengths ?? [];
        var segments = input.SegmentWordCounts ?? [];
        CheckLayout(lookedUp, lengths, segments);
        // Header: <s>, </s>, max length (ByteLevelBpeCandidates).
        int cls = ByteLevelBpeLookup.Id(lookedUp[0]), sep = ByteLevelBpeLookup.Id(lookedUp[1]);
        long maxLength = lookedUp[2];
        bool pair = segments.Length == 2;
        if (cls < 0 || sep < 0 || maxLength < (pair ? 4 : 2) || maxLength > ByteLevelBpeCandidates.MaxWordsPerSegment || pair && maxLength % 2 != 0)
            throw new InvalidOperationException(
                $"The byte-level BPE lookup table must map <s> and </s> to their ids and '{WordPieceCandidates.MaxLengthKey}' to the maximum length " +
                $"(up to {ByteLevelBpeCandidates.MaxWordsPerSegment}, even for pairs); got {cls}, {sep} and {maxLength}.");

        // Each segment is tokenized up to the budget only: with an even budget, longest_first never needs more (BertTruncation).
        int budget = (int)maxLength - (pair ? 4 : 2);
        int cursor = ByteLevelBpeCandidates.HeaderLength, word = 0;
        var first = SelectSegment(lookedUp, lengths, segments[0], budget, ref cursor, ref word);
        var second = pair ? SelectSegment(lookedUp, lengths, segments[1], budget, ref cursor, ref word) : [];
        var (keptFirst, keptSecond) = pair
            ? BertTruncation.LongestFirstFast(Math.Min(first.Count, budget), Math.Min(second.Count, budget), budget)
            : (Math.Min(first.Count, budget), 0);

        int length = keptFirst + 2 + (pair ? keptSecond + 2 : 0);
        var ids = new long[length];
        var mask = new long[length];
        Array.Fill(mask, 1L);
        int j = 0;
        ids[j++] = cls;
        for (int k = 0; k < keptFirst; k++) ids[j++] = first[k];
        ids[j++] = sep;
        if (pair)
        {
            ids[j++] = sep;
            for (int k = 0; k < keptSecond; k++) ids[j++] = second[k];
            ids[j++] = sep;
        }
        output.InputIds = ids;
        output.AttentionMask = mask;
        output.TokenTypeIds = new long[length]; // RoBERTa has one token type
    }

    /// <inheritdoc/>
    public override Action<Input, WordPieceSelectMapping.Output> GetMapping() => Map;

    /// <summary>BPE of a segment's words until it has <paramref name="budget"/> tokens; the cursor passes all its words.</summary>
    private static List<long> SelectSegment(ReadOnlySpan<long> lookedUp, int[] lengths, int words, int budget, ref int cursor, ref int word)
    {
        var tokens = new List<long>();
        for (int end = word + words; word < end; word++)
        {
            bool special = lengths[word] == ByteLevelBpeCandidates.SpecialWordLength;
            int count = special ? 1 : ByteLevelBpeLayout.CandidateCount(lengths[word]);
            if (tokens.Count < budget)
            {
                if (special) tokens.Add(ByteLevelBpeLookup.Id(lookedUp[cursor]));
                else ByteLevelBpeLayout.Merge(lookedUp.Slice(cursor, count), lengths[word], tokens);
            }
            cursor += count;
        }
        return tokens;
    }

    private static void CheckLayout(ReadOnlySpan<long> lookedUp, int[] lengths, int[] segments)
    {
        long expected = ByteLevelBpeCandidates.HeaderLength;
        bool valid = segments.Length is 1 or 2 && segments.All(s => s >= 0) && segments.Sum() == lengths.Length;
        foreach (int length in lengths)
        {
            valid &= length > 0 || length == ByteLevelBpeCandidates.SpecialWordLength;
            expected += length > 0 ? ByteLevelBpeLayout.CandidateCount(length) : 1;
        }
        if (!valid || expected != lookedUp.Length)
            throw new InvalidOperationException(
                $"The byte-level BPE select step got {lookedUp.Length} looked-up values for {lengths.Length} words in segments [{string.Join(", ", segments)}]; " +
                $"they must come from {nameof(ByteLevelBpeCandidates)} through one MapValue.");
    }
}
