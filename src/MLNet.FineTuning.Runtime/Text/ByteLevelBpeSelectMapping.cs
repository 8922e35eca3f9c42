using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The last of a saved RoBERTa-family model's tokenization steps: the values looked up for the candidate substrings
/// (<see cref="ByteLevelBpePiecesMapping"/>, <see cref="ByteLevelBpeLookup"/>) → BPE per piece, the Rust tokenizers'
/// longest_first truncation of a pair, <c>&lt;s&gt; A &lt;/s&gt;(&lt;/s&gt; B &lt;/s&gt;)</c> → the three int64 inputs,
/// named as the exported ONNX model's, exactly as <see cref="RobertaTextTokenizer.Encode"/> gives them.
/// </summary>
/// <remarks>
/// Stateless, so that ML.NET can persist it by contract name (docs/text-saved-model.md): ids, merges, the special tokens'
/// ids and the maximum length all arrive in <see cref="CandidateIdsColumn"/> from the token table saved in model.zip. It
/// finds each piece's candidates through the layout vector of the candidates step (<c>ByteLevelBpeLayout</c>). The outputs are
/// variable-length, unpadded: ML.NET scores one row at a time.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ByteLevelBpeSelectMapping : CustomMappingFactory<ByteLevelBpeSelectMapping.Input, WordPieceSelectMapping.Output>
{
    /// <summary>
    /// The contract name stored in saved models. Never change it: saved models refer to it. /2: its input is the pieces'
    /// layout (<see cref="ByteLevelBpePiecesMapping"/>); /1 took whole words' lengths (the first design, not kept).
    /// </summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeSelect/2";

    /// <summary>Input: int64 vector, one looked-up value per candidate (<see cref="ByteLevelBpeLookup"/>'s packing; the maximum length for <see cref="WordPieceCandidates.MaxLengthKey"/>).</summary>
    public const string CandidateIdsColumn = "__MLNetFineTuning_BpeCandidateIds";

    /// <summary>The looked-up values and the layout of <see cref="ByteLevelBpePiecesMapping.Output"/>.</summary>
    public sealed class Input
    {
        /// <summary>One looked-up value per candidate.</summary>
        [ColumnName(CandidateIdsColumn), VectorType]
        public VBuffer<long> CandidateIds { get; set; }

        /// <summary>Per unit: -1 (a special token), or a piece's length and its candidates per start.</summary>
        [ColumnName(ByteLevelBpePiecesMapping.LayoutColumn), VectorType]
        public int[] Layout { get; set; } = [];

        /// <summary>Units per segment: one entry, or two for a pair.</summary>
        [ColumnName(ByteLevelBpePiecesMapping.SegmentUnitsColumn), VectorType]
        public int[] SegmentUnits { get; set; } = [];
    }

    /// <summary>The mapping itself.</summary>
    /// <exception cref="InvalidOperationException">The looked-up values do not fit the word layout, or the lookup table lacks the special tokens or a valid maximum length: the chain was not built by MLNet.FineTuning.</exception>
    public static void Map(Input input, WordPieceSelectMapping.Output output)
    {
        var lookedUp = input.CandidateIds.GetValues();
        var layout = input.Layout ?? [];
        var segments = input.SegmentUnits ?? [];
        CheckLayout(lookedUp, layout, segments);
        // Header: <s>, </s>, max length (ByteLevelBpePiecesMapping).
        int cls = ByteLevelBpeLookup.Id(lookedUp[0]), sep = ByteLevelBpeLookup.Id(lookedUp[1]);
        bool pair = segments.Length == 2;
        int budget = Budget(lookedUp[2], pair);
        if (cls < 0 || sep < 0)
            throw new InvalidOperationException($"The byte-level BPE lookup table must map <s> and </s> to their ids; got {cls} and {sep}.");

        // Each segment is tokenized up to the budget only: with an even budget, longest_first never needs more (BertTruncation).
        int cursor = ByteLevelBpePiecesMapping.HeaderLength, at = 0;
        var first = SelectSegment(lookedUp, layout, segments[0], budget, ref cursor, ref at);
        var second = pair ? SelectSegment(lookedUp, layout, segments[1], budget, ref cursor, ref at) : [];
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

    /// <summary>
    /// The token budget of a row (maximum length minus the special tokens), from the maximum length the lookup gave.
    /// Pairs need an even one: HF's fast longest_first gives an odd budget's extra token to the longer text, which only
    /// both texts tokenized to their end can tell.
    /// </summary>
    /// <exception cref="InvalidOperationException">The maximum length is out of the chain's range.</exception>
    internal static int Budget(long maxLength, bool pair)
    {
        if (maxLength < (pair ? 4 : 2) || maxLength > ByteLevelBpeWords.MaxWordsPerSegment || pair && maxLength % 2 != 0)
            throw new InvalidOperationException(
                $"The byte-level BPE lookup tables must map '{WordPieceCandidates.MaxLengthKey}' to the maximum length, from " +
                $"{(pair ? 4 : 2)} to {ByteLevelBpeWords.MaxWordsPerSegment}{(pair ? ", even for pairs" : "")}; got {maxLength}.");
        return (int)maxLength - (pair ? 4 : 2);
    }

    /// <summary>BPE of a segment's units until it has <paramref name="budget"/> tokens; the cursors pass all its units.</summary>
    private static List<long> SelectSegment(ReadOnlySpan<long> lookedUp, int[] layout, int units, int budget, ref int cursor, ref int at)
    {
        var tokens = new List<long>();
        for (int unit = 0; unit < units; unit++)
        {
            if (layout[at] == ByteLevelBpeLayout.Special)
            {
                if (tokens.Count < budget) tokens.Add(ByteLevelBpeLookup.Id(lookedUp[cursor]));
                cursor++;
                at++;
                continue;
            }
            int piece = at;
            ByteLevelBpeLayout.SkipPiece(layout, ref at, out int listed); // checked by CheckLayout
            if (tokens.Count < budget)
            {
                var (offsets, counts) = ByteLevelBpeLayout.ExpandPiece(layout, piece);
                ByteLevelBpeLayout.Merge(lookedUp.Slice(cursor, listed), offsets, counts, tokens);
            }
            cursor += listed;
        }
        return tokens;
    }

    private static void CheckLayout(ReadOnlySpan<long> lookedUp, int[] layout, int[] segments)
    {
        long expected = ByteLevelBpePiecesMapping.HeaderLength;
        int units = 0, at = 0;
        bool valid = segments.Length is 1 or 2 && segments.All(s => s >= 0);
        while (valid && at < layout.Length)
        {
            units++;
            if (layout[at] == ByteLevelBpeLayout.Special)
            {
                expected++;
                at++;
                continue;
            }
            valid = ByteLevelBpeLayout.SkipPiece(layout, ref at, out int listed);
            expected += listed;
        }
        if (!valid || units != segments.Sum() || expected != lookedUp.Length)
            throw new InvalidOperationException(
                $"The byte-level BPE select step got {lookedUp.Length} looked-up values for a layout of {layout.Length} entries in segments [{string.Join(", ", segments)}]; " +
                $"they must come from {nameof(ByteLevelBpePiecesMapping)} through one MapValue.");
    }
}
