using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Text;

/// <summary>
/// <see cref="RobertaTextTokenizer"/> expressed as public ML.NET components plus the runtime package's stateless mappings,
/// so that <c>mlContext.Model.Save</c>/<c>Load</c> round-trips a RoBERTa-family model's tokenizer with its vocabulary,
/// merges and settings inside model.zip (docs/text-saved-model.md, design 4 and its byte-level BPE section). Steps:
/// CopyColumns to the fixed input names → <see cref="ByteLevelBpeWords"/> (one of four contracts: prefix space ×
/// single/pair) → MapValue (byte pair → where BPE may merge, and the maximum length; a lookup table saved in the zip) →
/// <see cref="ByteLevelBpePiecesMapping"/> → MapValue (candidate → id and the merge that makes it) →
/// <see cref="ByteLevelBpeSelectMapping"/> → <c>input_ids</c>, <c>attention_mask</c>, <c>token_type_ids</c>
/// (variable-length int64 vectors, the exported ONNX model's input names) → DropColumns of the intermediates. A missing
/// text is an empty one, as in <see cref="RobertaTextTokenizer"/>.
/// </summary>
internal static class ByteLevelBpeTokenizationPipeline
{
    /// <summary>The largest maximum length the chain supports (<see cref="ByteLevelBpeWords.MaxWordsPerSegment"/>).</summary>
    public const int MaxSupportedLength = ByteLevelBpeWords.MaxWordsPerSegment;

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
    /// <exception cref="ArgumentException">The vocabulary or the merges break the chain's assumptions (<see cref="ByteLevelBpeLookup.TokenEntries"/>).</exception>
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

        var tokens = LookupEntries(vocabulary, merges, maxLength);
        var tokenTable = ml.Data.LoadFromEnumerable(tokens);
        var pairTable = ml.Data.LoadFromEnumerable(PairEntries(merges, maxLength));
        IEstimator<ITransformer> copy = ml.Transforms.CopyColumns(ByteLevelBpeWords.TextColumn, textColumn);
        if (pair) copy = copy.Append(ml.Transforms.CopyColumns(ByteLevelBpeWords.PairColumn, pairColumn!));

        string[] intermediates = pair
            ? [ByteLevelBpeWords.TextColumn, ByteLevelBpeWords.PairColumn, .. StepColumns]
            : [ByteLevelBpeWords.TextColumn, .. StepColumns];
        return copy
            .Append(Words(ml, pair, addPrefixSpace))
            .Append(ml.Transforms.Conversion.MapValue(ByteLevelBpePiecesMapping.BytePairValuesColumn, pairTable,
                pairTable.Schema[nameof(PairEntry.Key)], pairTable.Schema[nameof(PairEntry.Value)], ByteLevelBpeWords.BytePairsColumn))
            .Append(ml.Transforms.CustomMapping<ByteLevelBpePiecesMapping.Input, ByteLevelBpePiecesMapping.Output>(
                ByteLevelBpePiecesMapping.Map, ByteLevelBpePiecesMapping.ContractName))
            .Append(ml.Transforms.Conversion.MapValue(ByteLevelBpeSelectMapping.CandidateIdsColumn, tokenTable,
                tokenTable.Schema[nameof(LookupEntry.Key)], tokenTable.Schema[nameof(LookupEntry.Value)], ByteLevelBpePiecesMapping.CandidatesColumn))
            .Append(ml.Transforms.CustomMapping<ByteLevelBpeSelectMapping.Input, WordPieceSelectMapping.Output>(
                ByteLevelBpeSelectMapping.Map, ByteLevelBpeSelectMapping.ContractName))
            .Append(ml.Transforms.DropColumns(intermediates));
    }

    /// <summary>The words step: its contract is chosen by the prefix space and by single vs pair input.</summary>
    private static IEstimator<ITransformer> Words(MLContext ml, bool pair, bool addPrefixSpace) => (pair, addPrefixSpace) switch
    {
        (false, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output>(
            ByteLevelBpeWordsMapping.Map, ByteLevelBpeWordsMapping.ContractName),
        (false, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output>(
            PrefixSpaceByteLevelBpeWordsMapping.Map, PrefixSpaceByteLevelBpeWordsMapping.ContractName),
        (true, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output>(
            PairByteLevelBpeWordsMapping.Map, PairByteLevelBpeWordsMapping.ContractName),
        (true, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output>(
            PrefixSpacePairByteLevelBpeWordsMapping.Map, PrefixSpacePairByteLevelBpeWordsMapping.ContractName),
    };

    private static readonly string[] StepColumns =
    [
        ByteLevelBpeWords.WordsColumn, ByteLevelBpeWords.WordLengthsColumn, ByteLevelBpeWords.SegmentWordCountsColumn,
        ByteLevelBpeWords.BytePairsColumn, ByteLevelBpePiecesMapping.BytePairValuesColumn,
        ByteLevelBpePiecesMapping.CandidatesColumn, ByteLevelBpePiecesMapping.LayoutColumn,
        ByteLevelBpePiecesMapping.SegmentUnitsColumn, ByteLevelBpeSelectMapping.CandidateIdsColumn,
    ];

    /// <summary>The token table: each token → its packed id and merge (<see cref="ByteLevelBpeLookup"/>), then the configuration.</summary>
    private static List<LookupEntry> LookupEntries(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, int maxLength)
    {
        // The key starts with U+0001, whose byte maps to 'ā' in GPT-2's alphabet, so no candidate can equal it.
        if (vocabulary.ContainsKey(WordPieceCandidates.MaxLengthKey))
            throw new ArgumentException("The vocabulary has the configuration key U+0001 \"maxlen\" as a token.", nameof(vocabulary));
        var packed = ByteLevelBpeLookup.TokenEntries(vocabulary, merges);
        var entries = new List<LookupEntry>(packed.Count + 1);
        foreach (var (token, value) in packed) entries.Add(new LookupEntry { Key = token, Value = value });
        entries.Add(new LookupEntry { Key = WordPieceCandidates.MaxLengthKey, Value = maxLength });
        return entries;
    }

    /// <summary>The pair table (<see cref="ByteLevelBpeLookup.PairEntries"/>), then the configuration: the candidates step needs the maximum length too.</summary>
    private static List<PairEntry> PairEntries(IReadOnlyList<(string Left, string Right)> merges, int maxLength) =>
        [.. ByteLevelBpeLookup.PairEntries(merges).Select(p => new PairEntry { Key = p.Key, Value = p.Value }),
            new PairEntry { Key = WordPieceCandidates.MaxLengthKey, Value = maxLength }];

    private sealed class PairEntry
    {
        public string Key { get; set; } = "";

        public int Value { get; set; }
    }

    private sealed class LookupEntry
    {
        public string Key { get; set; } = "";

        public long Value { get; set; }
    }
}
