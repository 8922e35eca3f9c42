using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Text;

/// <summary>
/// <see cref="RobertaTextTokenizer"/> expressed as public ML.NET components plus the runtime package's stateless mappings,
/// so that <c>mlContext.Model.Save</c>/<c>Load</c> round-trips a RoBERTa-family model's tokenizer with its vocabulary,
/// merges and settings inside model.zip (docs/text-saved-model.md, design 4 and its byte-level BPE section). Steps:
/// CopyColumns to the fixed input names → <see cref="ByteLevelBpeCandidates"/> (one of four contracts: prefix space ×
/// single/pair) → MapValue (candidate → id and the merge that makes it, and the maximum length, from a lookup table saved in
/// the zip) → <see cref="ByteLevelBpeSelectMapping"/> → <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>
/// (variable-length int64 vectors, the exported ONNX model's input names) → DropColumns of the intermediates. A missing
/// text is an empty one, as in <see cref="RobertaTextTokenizer"/>.
/// </summary>
internal static class ByteLevelBpeTokenizationPipeline
{
    /// <summary>The largest maximum length the chain supports (<see cref="ByteLevelBpeCandidates.MaxWordsPerSegment"/>).</summary>
    public const int MaxSupportedLength = ByteLevelBpeCandidates.MaxWordsPerSegment;

    /// <summary>Builds the (trivially trainable) estimator chain; fit it on any view with the text column(s).</summary>
    /// <param name="ml">The context.</param>
    /// <param name="textColumn">Text column (scalar text).</param>
    /// <param name="pairColumn">Second text column for pairs, or <see langword="null"/> for single texts.</param>
    /// <param name="vocabulary">Token → id, e.g. <see cref="RobertaTextTokenizer.Vocabulary"/>; must have <c>&lt;s&gt;</c>, <c>&lt;pad&gt;</c>, <c>&lt;/s&gt;</c>, <c>&lt;unk&gt;</c>, <c>&lt;mask&gt;</c> and a token for each byte.</param>
    /// <param name="merges">The merges in rank order, e.g. <see cref="RobertaTextTokenizer.Merges"/>; each must make its own token of at most 128 bytes.</param>
    /// <param name="addPrefixSpace">HF's <c>add_prefix_space</c>, as the tokenizer the model trained with.</param>
    /// <param name="maxLength">
    /// Most tokens per row, special tokens included: 2 (4 with pairs) to <see cref="MaxSupportedLength"/>; even with pairs,
    /// because HF's fast longest_first gives the odd token of an odd budget to the longer segment, which only both texts
    /// tokenized to their end can tell, while the chain tokenizes at most <see cref="MaxSupportedLength"/> words of each.
    /// </param>
    /// <exception cref="ArgumentException">The vocabulary or the merges break the chain's assumptions (<see cref="ByteLevelBpeLookup.Entries"/>).</exception>
    public static IEstimator<ITransformer> Build(MLContext ml, string textColumn, string? pairColumn,
        IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, bool addPrefixSpace, int maxLength)
    {
        Check.NotNull(ml, nameof(ml));
        ArgumentException.ThrowIfNullOrWhiteSpace(textColumn);
        if (pairColumn is not null) ArgumentException.ThrowIfNullOrWhiteSpace(pairColumn);
        Check.NotNull(vocabulary, nameof(vocabulary));
        Check.NotNull(merges, nameof(merges));
        bool pair = pairColumn is not null;
        Check.Range(maxLength >= (pair ? 4 : 2) && maxLength <= MaxSupportedLength && (!pair || maxLength % 2 == 0), nameof(maxLength),
            pair ? $"even and in [4, {MaxSupportedLength}] with pairs (HF's fast longest_first splits an odd budget by which text is longer)"
                 : $"in [2, {MaxSupportedLength}] (each segment's words are listed up to {MaxSupportedLength})", maxLength);

        var lookup = ml.Data.LoadFromEnumerable(LookupEntries(vocabulary, merges, maxLength));
        IEstimator<ITransformer> copy = ml.Transforms.CopyColumns(ByteLevelBpeCandidates.TextColumn, textColumn);
        if (pair) copy = copy.Append(ml.Transforms.CopyColumns(ByteLevelBpeCandidates.PairColumn, pairColumn!));

        string[] intermediates = pair
            ? [ByteLevelBpeCandidates.TextColumn, ByteLevelBpeCandidates.PairColumn, .. StepColumns]
            : [ByteLevelBpeCandidates.TextColumn, .. StepColumns];
        return copy
            .Append(Candidates(ml, pair, addPrefixSpace))
            .Append(ml.Transforms.Conversion.MapValue(ByteLevelBpeSelectMapping.CandidateIdsColumn, lookup,
                lookup.Schema[nameof(LookupEntry.Key)], lookup.Schema[nameof(LookupEntry.Value)], ByteLevelBpeCandidates.CandidatesColumn))
            .Append(ml.Transforms.CustomMapping<ByteLevelBpeSelectMapping.Input, WordPieceSelectMapping.Output>(
                ByteLevelBpeSelectMapping.Map, ByteLevelBpeSelectMapping.ContractName))
            .Append(ml.Transforms.DropColumns(intermediates));
    }

    /// <summary>The candidates step: its contract is chosen by the prefix space and by single vs pair input.</summary>
    private static IEstimator<ITransformer> Candidates(MLContext ml, bool pair, bool addPrefixSpace) => (pair, addPrefixSpace) switch
    {
        (false, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output>(
            ByteLevelBpeCandidatesMapping.Map, ByteLevelBpeCandidatesMapping.ContractName),
        (false, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output>(
            PrefixSpaceByteLevelBpeCandidatesMapping.Map, PrefixSpaceByteLevelBpeCandidatesMapping.ContractName),
        (true, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output>(
            PairByteLevelBpeCandidatesMapping.Map, PairByteLevelBpeCandidatesMapping.ContractName),
        (true, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output>(
            PrefixSpacePairByteLevelBpeCandidatesMapping.Map, PrefixSpacePairByteLevelBpeCandidatesMapping.ContractName),
    };

    private static readonly string[] StepColumns =
    [
        ByteLevelBpeCandidates.CandidatesColumn, ByteLevelBpeCandidates.WordLengthsColumn,
        ByteLevelBpeCandidates.SegmentWordCountsColumn, ByteLevelBpeSelectMapping.CandidateIdsColumn,
    ];

    /// <summary>The lookup table: each token → its packed id and merge (<see cref="ByteLevelBpeLookup"/>), then the configuration.</summary>
    private static List<LookupEntry> LookupEntries(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, int maxLength)
    {
        // The key starts with U+0001, whose byte maps to 'ā' in GPT-2's alphabet, so no candidate can equal it.
        if (vocabulary.ContainsKey(WordPieceCandidates.MaxLengthKey))
            throw new ArgumentException("The vocabulary has the configuration key U+0001 \"maxlen\" as a token.", nameof(vocabulary));
        var packed = ByteLevelBpeLookup.Entries(vocabulary, merges);
        var entries = new List<LookupEntry>(packed.Count + 1);
        foreach (var (token, value) in packed) entries.Add(new LookupEntry { Key = token, Value = value });
        entries.Add(new LookupEntry { Key = WordPieceCandidates.MaxLengthKey, Value = maxLength });
        return entries;
    }

    private sealed class LookupEntry
    {
        public string Key { get; set; } = "";

        public long Value { get; set; }
    }
}
