using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The last of a saved text model's tokenization steps: the ids looked up for the candidate pieces
/// (<see cref="WordPieceCandidates"/>) → greedy longest-match WordPiece per word, HF's longest_first truncation of
/// a pair, <c>[CLS] text [SEP] (pair [SEP])</c> → BERT's three int64 inputs, named as the exported ONNX model's.
/// </summary>
/// <remarks>
/// Stateless, so that ML.NET can persist it by contract name (docs/text-saved-model.md): the vocabulary ids, the special
/// tokens' ids and the maximum length all arrive in <see cref="CandidateIdsColumn"/> from the lookup table saved in
/// model.zip. It re-derives each word's candidate positions from the word lengths alone (WordPieceLayout), so no
/// text travels between the steps twice. The outputs are variable-length, unpadded: ML.NET scores one row at a time.
/// </remarks>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class WordPieceSelectMapping : CustomMappingFactory<WordPieceSelectMapping.Input, WordPieceSelectMapping.Output>
{
    /// <summary>The contract name stored in saved models. Never change it: saved models refer to it.</summary>
    public const string ContractName = "MLNet.FineTuning.WordPieceSelect/1";

    /// <summary>Input: int32 vector, one looked-up value per candidate (vocabulary id + 1, 0 = not in the vocabulary; the maximum length for <see cref="WordPieceCandidates.MaxLengthKey"/>).</summary>
    public const string CandidateIdsColumn = "__MLNetFineTuning_WordPieceCandidateIds";

    /// <summary>Output: int64 token ids, <c>[CLS]</c> first.</summary>
    public const string InputIdsColumn = "input_ids";

    /// <summary>Output: int64, 1 for every token (the sequence is unpadded).</summary>
    public const string AttentionMaskColumn = "attention_mask";

    /// <summary>Output: int64, 0 for <c>[CLS]</c>, the text and its <c>[SEP]</c>; 1 for the pair and its <c>[SEP]</c>.</summary>
    public const string TokenTypeIdsColumn = "token_type_ids";

    /// <summary>The looked-up ids and the word layout of <see cref="WordPieceCandidates.Output"/>.</summary>
    public sealed class Input
    {
        /// <summary>One looked-up value per candidate.</summary>
        [ColumnName(CandidateIdsColumn), VectorType]
        public VBuffer<int> CandidateIds { get; set; }

        /// <summary>Each word's length in UTF-16 units.</summary>
        [ColumnName(WordPieceCandidates.WordLengthsColumn), VectorType]
        public int[] WordLengths { get; set; } = [];

        /// <summary>Words per segment: one entry, or two for a pair.</summary>
        [ColumnName(WordPieceCandidates.SegmentWordCountsColumn), VectorType]
        public int[] SegmentWordCounts { get; set; } = [];
    }

    /// <summary>BERT's inputs for one row.</summary>
    public sealed class Output
    {
        /// <summary>Token ids.</summary>
        [ColumnName(InputIdsColumn), VectorType]
        public long[] InputIds { get; set; } = [];

        /// <summary>All ones.</summary>
        [ColumnName(AttentionMaskColumn), VectorType]
        public long[] AttentionMask { get; set; } = [];

        /// <summary>Segment of each token.</summary>
        [ColumnName(TokenTypeIdsColumn), VectorType]
        public long[] TokenTypeIds { get; set; } = [];
    }

    /// <summary>The mapping itself.</summary>
    /// <exception cref="InvalidOperationException">The looked-up values do not fit the word layout, or the lookup table lacks the special tokens or the maximum length: the chain was not built by MLNet.FineTuning.</exception>
    public static void Map(Input input, Output output)
    {
        var lookedUp = input.CandidateIds.GetValues();
        var lengths = input.WordLengths ?? [];
        var segments = input.SegmentWordCounts ?? [];
        CheckLayout(lookedUp, lengths, segments);
        // Header: [CLS], [SEP], [UNK], [PAD], max length (WordPieceCandidates).
        long cls = lookedUp[0] - 1, sep = lookedUp[1] - 1, unk = lookedUp[2] - 1;
        int maxLength = lookedUp[4];
        bool pair = segments.Length == 2;
        if (cls < 0 || sep < 0 || unk < 0 || maxLength < (pair ? 3 : 2) || maxLength > WordPieceCandidates.MaxWordsPerSegment)
            throw new InvalidOperationException(
                $"The WordPiece lookup table must map [CLS], [SEP] and [UNK] to their ids + 1 and '{WordPieceCandidates.MaxLengthKey}' to the maximum length " +
                $"(up to {WordPieceCandidates.MaxWordsPerSegment}); got {cls + 1}, {sep + 1}, {unk + 1} and {maxLength}.");

        // Each segment is tokenized up to the budget only: longest_first never keeps more (BertTruncation).
        int budget = maxLength - (pair ? 3 : 2);
        int cursor = WordPieceCandidates.HeaderLength, word = 0;
        var first = SelectSegment(lookedUp, lengths, segments[0], budget, (int)unk, ref cursor, ref word);
        var second = pair ? SelectSegment(lookedUp, lengths, segments[1], budget, (int)unk, ref cursor, ref word) : [];
        var (keptFirst, keptSecond) = BertTruncation.LongestFirst(Math.Min(first.Count, budget), Math.Min(second.Count, budget), budget);

        int length = keptFirst + keptSecond + (pair ? 3 : 2);
        var ids = new long[length];
        var types = new long[length];
        var mask = new long[length];
        Array.Fill(mask, 1L);
        int j = 0;
        ids[j++] = cls;
        for (int k = 0; k < keptFirst; k++) ids[j++] = first[k];
        ids[j++] = sep;
        if (pair)
        {
            for (int k = 0; k < keptSecond; k++) ids[j++] = second[k];
            ids[j++] = sep;
            Array.Fill(types, 1L, keptFirst + 2, keptSecond + 1);
        }
        output.InputIds = ids;
        output.AttentionMask = mask;
        output.TokenTypeIds = types;
    }

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;

    /// <summary>WordPiece of a segment's words until it has <paramref name="budget"/> tokens; the cursor passes all its words.</summary>
    private static List<long> SelectSegment(ReadOnlySpan<int> lookedUp, int[] lengths, int words, int budget, int unkId, ref int cursor, ref int word)
    {
        var tokens = new List<long>();
        for (int end = word + words; word < end; word++)
        {
            int count = WordPieceLayout.CandidateCount(lengths[word]);
            if (tokens.Count < budget) WordPieceLayout.Select(lookedUp.Slice(cursor, count), lengths[word], unkId, tokens);
            cursor += count;
        }
        return tokens;
    }

    private static void CheckLayout(ReadOnlySpan<int> lookedUp, int[] lengths, int[] segments)
    {
        long expected = WordPieceCandidates.HeaderLength;
        bool valid = segments.Length is 1 or 2 && segments.All(s => s >= 0) && segments.Sum() == lengths.Length;
        foreach (int length in lengths)
        {
            valid &= length > 0;
            expected += WordPieceLayout.CandidateCount(length);
        }
        if (!valid || expected != lookedUp.Length)
            throw new InvalidOperationException(
                $"The WordPiece select step got {lookedUp.Length} looked-up values for {lengths.Length} words in segments [{string.Join(", ", segments)}]; " +
                $"they must come from {nameof(WordPieceCandidates)} through one MapValue.");
    }
}
