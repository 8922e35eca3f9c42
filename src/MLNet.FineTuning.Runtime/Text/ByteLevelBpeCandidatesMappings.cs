using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

// The four contracts of the byte-level BPE candidates step (ByteLevelBpeCandidates): one step that differs only in the
// prefix space and in single vs pair input, which cannot be configuration because the step runs before the lookup that
// carries the configuration. Kept together in one file because they are one step. Never change a contract name: saved
// models refer to it; a change in behaviour gets a new name (/2) and keeps the old one. The inputs are WordPiece's.

/// <summary>Candidates of one text, no prefix space (roberta-base). See <see cref="ByteLevelBpeCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ByteLevelBpeCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeCandidates/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, ByteLevelBpeCandidates.Output output) =>
        ByteLevelBpeCandidates.Map(ByteLevelWordSplitter.NoPrefixSpace, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of one text, with HF's add_prefix_space. See <see cref="ByteLevelBpeCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PrefixSpaceByteLevelBpeCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeCandidates.PrefixSpace/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, ByteLevelBpeCandidates.Output output) =>
        ByteLevelBpeCandidates.Map(ByteLevelWordSplitter.PrefixSpace, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, ByteLevelBpeCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of a text pair, no prefix space. See <see cref="ByteLevelBpeCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PairByteLevelBpeCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeCandidates.Pair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, ByteLevelBpeCandidates.Output output) =>
        ByteLevelBpeCandidates.Map(ByteLevelWordSplitter.NoPrefixSpace, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output> GetMapping() => Map;
}

/// <summary>Candidates of a text pair, with HF's add_prefix_space. See <see cref="ByteLevelBpeCandidates"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PrefixSpacePairByteLevelBpeCandidatesMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeCandidates.PrefixSpacePair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, ByteLevelBpeCandidates.Output output) =>
        ByteLevelBpeCandidates.Map(ByteLevelWordSplitter.PrefixSpace, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, ByteLevelBpeCandidates.Output> GetMapping() => Map;
}
