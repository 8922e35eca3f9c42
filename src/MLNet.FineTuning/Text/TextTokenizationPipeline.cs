using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Text;

/// <summary>
/// <see cref="BertTextTokenizer"/> expressed as public ML.NET components plus the runtime package's stateless
/// mappings, so that <c>mlContext.Model.Save</c>/<c>Load</c> round-trips a text model's tokenizer with its
/// vocabulary and settings inside model.zip and no file or library beside it (docs/text-saved-model.md, design 4).
/// Steps: CopyColumns to the fixed input names → <see cref="WordPieceCandidates"/> (one of four contracts:
/// casing × single/pair) → MapValue (candidate → vocabulary id + 1, and the maximum length, from a lookup table
/// saved in the zip) → <see cref="WordPieceSelectMapping"/> → <c>input_ids</c>, <c>attention_mask</c>,
/// <c>token_type_ids</c> (variable-length int64 vectors, the exported ONNX model's input names) → DropColumns of
/// the intermediates. A missing text is an empty one, as in <see cref="BertTextTokenizer"/>.
/// </summary>
internal static class TextTokenizationPipeline
{
    /// <summary>The largest maximum length the chain supports (<see cref="WordPieceCandidates.MaxWordsPerSegment"/>).</summary>
    public const int MaxSupportedLength = WordPieceCandidates.MaxWordsPerSegment;

    /// <summary>Builds the (trivially trainable) estimator chain; fit it on any view with the text column(s).</summary>
    /// <param name="ml">The context.</param>
    /// <param name="textColumn">Text column (scalar text).</param>
    /// <param name="pairColumn">Second text column for pairs, or <see langword="null"/> for single texts.</param>
    /// <param name="vocabulary">Token → id, e.g. <see cref="BertTextTokenizer.Vocabulary"/>; must have <c>[CLS]</c>, <c>[SEP]</c>, <c>[PAD]</c>, <c>[UNK]</c>, <c>[MASK]</c>.</param>
    /// <param name="lowerCase">HF's <c>do_lower_case</c>, as the tokenizer the model trained with.</param>
    /// <param name="maxLength">Most tokens per row, special tokens included: 2 (3 with pairs) to <see cref="MaxSupportedLength"/>.</param>
    public static IEstimator<ITransformer> Build(MLContext ml, string textColumn, string? pairColumn,
        IReadOnlyDictionary<string, int> vocabulary, bool lowerCase, int maxLength)
    {
        Check.NotNull(ml, nameof(ml));
        ArgumentException.ThrowIfNullOrWhiteSpace(textColumn);
        if (pairColumn is not null) ArgumentException.ThrowIfNullOrWhiteSpace(pairColumn);
        Check.NotNull(vocabulary, nameof(vocabulary));
        Check.Range(maxLength >= (pairColumn is null ? 2 : 3) && maxLength <= MaxSupportedLength, nameof(maxLength),
            $"in [{(pairColumn is null ? 2 : 3)}, {MaxSupportedLength}] (each segment's words are listed up to {MaxSupportedLength})", maxLength);

        var lookup = ml.Data.LoadFromEnumerable(LookupEntries(vocabulary, maxLength));
        IEstimator<ITransformer> copy = ml.Transforms.CopyColumns(WordPieceCandidates.TextColumn, textColumn);
        if (pairColumn is not null) copy = copy.Append(ml.Transforms.CopyColumns(WordPieceCandidates.PairColumn, pairColumn));

        string[] intermediates = pairColumn is null
            ? [WordPieceCandidates.TextColumn, .. StepColumns]
            : [WordPieceCandidates.TextColumn, WordPieceCandidates.PairColumn, .. StepColumns];
        return copy
            .Append(Candidates(ml, pairColumn is not null, lowerCase))
            .Append(ml.Transforms.Conversion.MapValue(WordPieceSelectMapping.CandidateIdsColumn, lookup,
                lookup.Schema[nameof(LookupEntry.Key)], lookup.Schema[nameof(LookupEntry.Value)], WordPieceCandidates.CandidatesColumn))
            .Append(ml.Transforms.CustomMapping<WordPieceSelectMapping.Input, WordPieceSelectMapping.Output>(
                WordPieceSelectMapping.Map, WordPieceSelectMapping.ContractName))
            .Append(ml.Transforms.DropColumns(intermediates));
    }

    /// <summary>The candidates step: its contract is chosen by casing and by single vs pair input.</summary>
    private static IEstimator<ITransformer> Candidates(MLContext ml, bool pair, bool lowerCase) => (pair, lowerCase) switch
    {
        (false, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, WordPieceCandidates.Output>(
            UncasedWordPieceCandidatesMapping.Map, UncasedWordPieceCandidatesMapping.ContractName),
        (false, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, WordPieceCandidates.Output>(
            CasedWordPieceCandidatesMapping.Map, CasedWordPieceCandidatesMapping.ContractName),
        (true, true) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output>(
            UncasedPairWordPieceCandidatesMapping.Map, UncasedPairWordPieceCandidatesMapping.ContractName),
        (true, false) => ml.Transforms.CustomMapping<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output>(
            CasedPairWordPieceCandidatesMapping.Map, CasedPairWordPieceCandidatesMapping.ContractName),
    };

    private static readonly string[] StepColumns =
    [
        WordPieceCandidates.CandidatesColumn, WordPieceCandidates.WordLengthsColumn,
        WordPieceCandidates.SegmentWordCountsColumn, WordPieceSelectMapping.CandidateIdsColumn,
    ];

    /// <summary>The lookup table: each token → id + 1 (MapValue gives 0 for a missing key), then the configuration.</summary>
    private static List<LookupEntry> LookupEntries(IReadOnlyDictionary<string, int> vocabulary, int maxLength)
    {
        foreach (string token in BertSpecialTokens.All)
            if (!vocabulary.ContainsKey(token))
                throw new ArgumentException($"The vocabulary has no '{token}'; BERT needs {string.Join(", ", BertSpecialTokens.All)}.", nameof(vocabulary));
        if (vocabulary.ContainsKey(WordPieceCandidates.MaxLengthKey))
            throw new ArgumentException("The vocabulary has the configuration key U+0001 \"maxlen\" as a token.", nameof(vocabulary));

        var entries = new List<LookupEntry>(vocabulary.Count + 1);
        foreach (var (token, id) in vocabulary)
        {
            Check.Range(id >= 0 && id < int.MaxValue, nameof(vocabulary), "ids in [0, int.MaxValue)", $"'{token}' → {id}");
            entries.Add(new LookupEntry { Key = token, Value = id + 1 });
        }
        entries.Add(new LookupEntry { Key = WordPieceCandidates.MaxLengthKey, Value = maxLength });
        return entries;
    }

    private sealed class LookupEntry
    {
        public string Key { get; set; } = "";

        public int Value { get; set; }
    }
}
