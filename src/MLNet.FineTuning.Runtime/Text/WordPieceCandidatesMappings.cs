using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

// The four contracts of the candidates step (WordPieceCandidates): one step that differs only in casing and in
// single vs pair input, which cannot be configuration because the step runs before the lookup that carries the
// configuration. Kept together in one file because they are one step. Never change a contract name: saved models
// refer to it; a change in behaviour gets a new name (/2) and keeps the old one.

/// <summary>Candidates of one text, uncased vocabularies (lower-cases, strips accents). See <see cref="WordPieceCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class UncasedWordPieceCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextInput, WordPieceCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.WordPieceCandidates.Uncased/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, WordPieceCandidates.Output output) =>
        WordPieceCandidates.Map(BertWordSplitter.Uncased, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, WordPieceCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of one text, cased vocabularies (keeps case, NFC). See <see cref="WordPieceCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class CasedWordPieceCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextInput, WordPieceCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.WordPieceCandidates.Cased/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, WordPieceCandidates.Output output) =>
        WordPieceCandidates.Map(BertWordSplitter.Cased, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, WordPieceCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of a text pair, uncased vocabularies. See <see cref="WordPieceCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class UncasedPairWordPieceCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.WordPieceCandidates.UncasedPair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, WordPieceCandidates.Output output) =>
        WordPieceCandidates.Map(BertWordSplitter.Uncased, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of a text pair, cased vocabularies. See <see cref="WordPieceCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class CasedPairWordPieceCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.WordPieceCandidates.CasedPair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, WordPieceCandidates.Output output) =>
        WordPieceCandidates.Map(BertWordSplitter.Cased, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, WordPieceCandidates.Output> GetMapping() => Map;
}
