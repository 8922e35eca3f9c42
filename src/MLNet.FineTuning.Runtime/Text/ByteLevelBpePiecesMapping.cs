using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The middle of a saved RoBERTa-family model's tokenization steps: the words of <see cref="ByteLevelBpeWords"/> and the
/// values looked up for their byte pairs → the pieces BPE works on independently and, in each, every substring BPE could
/// form (<c>ByteLevelBpeLayout</c>), for the second lookup (token → id and merge, <see cref="ByteLevelBpeLookup"/>).
/// </summary>
/// <remarks>
/// Stateless, so that ML.NET can persist it by contract name (docs/text-saved-model.md). The maximum length arrives with
/// the pair values (their first entry), so only the pieces that can reach the output are listed: each gives at least one
/// token. The candidate vector starts with <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c> and <see cref="WordPieceCandidates.MaxLengthKey"/>,
/// whose ids and value <see cref="ByteLevelBpeSelectMapping"/> reads from the second lookup.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ByteLevelBpePiecesMapping : CustomMappingFactory<ByteLevelBpePiecesMapping.Input, ByteLevelBpePiecesMapping.Output>
{
    /// <summary>
    /// The contract name stored in saved models. Never change it: saved models refer to it. (The first design's
    /// text → candidates step was <c>ByteLevelBpeCandidates/1</c>; this step is new, so its name is too.)
    /// </summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpePieces/1";

    /// <summary>Input: int32 vector, the maximum length, then one looked-up value per byte pair (<see cref="ByteLevelBpeLookup.PairEntries"/>).</summary>
    public const string BytePairValuesColumn = "__MLNetFineTuning_BpeBytePairValues";

    /// <summary>Output: text vector, the header and then every piece's candidate substrings.</summary>
    public const string CandidatesColumn = "__MLNetFineTuning_BpeCandidates";

    /// <summary>Output: int32 vector, per unit <c>-1</c> (a special token) or a piece's length and its candidates per start.</summary>
    public const string LayoutColumn = "__MLNetFineTuning_BpeLayout";

    /// <summary>Output: int32 vector, the units (pieces and special tokens) listed per segment.</summary>
    public const string SegmentUnitsColumn = "__MLNetFineTuning_BpeSegmentUnits";

    /// <summary>Number of header entries before the first unit's candidates.</summary>
    public const int HeaderLength = 3;

    private static readonly ReadOnlyMemory<char>[] Header =
        [RobertaSpecialTokens.Cls.AsMemory(), RobertaSpecialTokens.Sep.AsMemory(), WordPieceCandidates.MaxLengthKey.AsMemory()];

    /// <summary>The words step's outputs and the values looked up for the byte pairs.</summary>
    public sealed class Input
    {
        /// <summary>The words.</summary>
        [ColumnName(ByteLevelBpeWords.WordsColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> Words { get; set; }

        /// <summary>Each word's length in bytes, or <see cref="ByteLevelBpeWords.SpecialWordLength"/>.</summary>
        [ColumnName(ByteLevelBpeWords.WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment.</summary>
        [ColumnName(ByteLevelBpeWords.SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];

        /// <summary>The maximum length, then one value per byte pair.</summary>
        [ColumnName(BytePairValuesColumn), VectorType]
        public VBuffer<int> BytePairValues { get; set; }
    }

    /// <summary>The candidates and their layout.</summary>
    public sealed class Output
    {
        /// <summary>The header, then every piece's candidate substrings.</summary>
        [ColumnName(CandidatesColumn), VectorType]
        public VBuffer<ReadOnlyMemory<char>> Candidates { get; set; }

        /// <summary>Per unit: -1, or a piece's length and its candidates per start.</summary>
        [ColumnName(LayoutColumn), VectorType]
        public int[] Layout { get; set; } = [];

        /// <summary>Units per segment: one entry, or two for a pair.</summary>
        [ColumnName(SegmentUnitsColumn), VectorType]
        public int[] SegmentUnits { get; set; } = [];
    }

    /// <summary>The mapping itself.</summary>
    /// <exception cref="InvalidOperationException">The inputs do not fit together, or the lookup gave no valid maximum length: the chain was not built by MLNet.FineTuning.</exception>
    public static void Map(Input input, Output output)
    {
        var words = input.Words.GetValues();
        var lengths = input.WordLengths ?? [];
        var segments = input.SegmentWordCounts ?? [];
        var pairValues = input.BytePairValues.GetValues();
        long expected = 1;
        bool valid = words.Length == lengths.Length && segments.Length is 1 or 2 && segments.All(s => s >= 0) && segments.Sum() == lengths.Length;
        for (int i = 0; valid && i < lengths.Length; i++)
        {
            valid = lengths[i] == ByteLevelBpeWords.SpecialWordLength || lengths[i] > 0 && lengths[i] == words[i].Length;
            if (lengths[i] > 0) expected += lengths[i] - 1;
        }
        if (!valid || expected != pairValues.Length)
            throw new InvalidOperationException(
                $"The byte-level BPE candidates step got {words.Length} words, {lengths.Length} lengths in segments [{string.Join(", ", segments)}] " +
                $"and {pairValues.Length} pair values; they must come from {nameof(ByteLevelBpeWords)} through one MapValue.");
        int budget = ByteLevelBpeSelectMapping.Budget(pairValues[0], segments.Length == 2);

        (output.Candidates, output.Layout, output.SegmentUnits) =
            ByteLevelBpeLayout.Candidates(Header, words, lengths, segments, pairValues[1..], budget);
    }

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;
}
