using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime.Text;

// The four contracts of the byte-level BPE words step (ByteLevelBpeWords): one step that differs only in the
// prefix space and in single vs pair input, which cannot be configuration because the step runs before the lookup that
// carries the configuration. Kept together in one file because they are one step. Never change a contract name: saved
// models refer to it; a change in behaviour gets a new name (/2) and keeps the old one. The inputs are WordPiece's.

/// <summary>Words of one text, no prefix space (roberta-base). See <see cref="ByteLevelBpeWords"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ByteLevelBpeWordsMapping : CustomMappingFactory<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeWords/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, ByteLevelBpeWords.Output output) =>
        ByteLevelBpeWords.Map(ByteLevelWordSplitter.NoPrefixSpace, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output> GetMapping() => Map;
}

/// <summary>Words of one text, with HF's add_prefix_space. See <see cref="ByteLevelBpeWords"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PrefixSpaceByteLevelBpeWordsMapping : CustomMappingFactory<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeWords.PrefixSpace/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextInput input, ByteLevelBpeWords.Output output) =>
        ByteLevelBpeWords.Map(ByteLevelWordSplitter.PrefixSpace, input.Text, null, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextInput, ByteLevelBpeWords.Output> GetMapping() => Map;
}

/// <summary>Words of a text pair, no prefix space. See <see cref="ByteLevelBpeWords"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PairByteLevelBpeWordsMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeWords.Pair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, ByteLevelBpeWords.Output output) =>
        ByteLevelBpeWords.Map(ByteLevelWordSplitter.NoPrefixSpace, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output> GetMapping() => Map;
}

/// <summary>Words of a text pair, with HF's add_prefix_space. See <see cref="ByteLevelBpeWords"/>.</summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PrefixSpacePairByteLevelBpeWordsMapping : CustomMappingFactory<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output>
{
    /// <summary>The contract name stored in saved models.</summary>
    public const string ContractName = "MLNet.FineTuning.ByteLevelBpeWords.PrefixSpacePair/1";

    /// <summary>The mapping itself.</summary>
    public static void Map(WordPieceCandidates.TextPairInput input, ByteLevelBpeWords.Output output) =>
        ByteLevelBpeWords.Map(ByteLevelWordSplitter.PrefixSpace, input.Text, input.Pair, output);

    /// <inheritdoc/>
    public override Action<WordPieceCandidates.TextPairInput, ByteLevelBpeWords.Output> GetMapping() => Map;
}
