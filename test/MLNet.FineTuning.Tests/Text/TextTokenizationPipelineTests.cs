using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using static MLNet.FineTuning.Tests.Text.TextTokenizationChain;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// The saved-model tokenization chain gives exactly <see cref="BertTextTokenizer.Encode"/>'s ids, masks and token
/// types, and keeps giving them after <c>mlContext.Model.Save</c>/<c>Load</c>.
/// </summary>
public class TextTokenizationPipelineTests
{
    private static BertTextTokenizer Uncased => BertVocabulary.Uncased;

    /// <summary>The id tests' texts, a few texts of thousands of characters, and one of ~40,000.</summary>
    private static readonly string?[] Texts = [.. TokenizerTexts.Varied, .. TokenizerTexts.Long(6, 2000, 6000, seed: 11), HugeText()];

    /// <summary>A pair for each text: another text of the set, so short, empty, null and long meet in every order.</summary>
    private static readonly string?[] Pairs = [.. Texts.Select((_, i) => Texts[(i * 7 + 3) % Texts.Length])];

    private static string HugeText()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 1200; i++)
            text.Append(i % 7 == 0 ? "Naïve café, " : "word-").Append(i).Append(i % 50 == 0 ? " [SEP]\n" : " $x_y\t");
        return text.ToString();
    }

    /// <summary>A small cased vocabulary: case and accents matter, some words need several pieces, most are [UNK].</summary>
    private static BertTextTokenizer SmallCased { get; } = BertTextTokenizer.Create(new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n",
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe", "Hello", "hello", "##s", "!", "the", "Qu", "##ick", "quick",
        "##ly", "a", "##a", "##aa", "##aaa", "中", "文", "$", "5", ",", ".", "-", "word", "Na", "##ïve", "ï", "##ve", "e", "##-"))), lowerCase: false);

    [Theory]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_UncasedSingle_SameAsEncode(int maxLength)
    {
        var ml = new MLContext(seed: 1);
        var chain = Fit(ml, Uncased, pair: false, maxLength);

        AssertSameAsEncode(Uncased, Encode(ml, chain, Texts), Texts, null, maxLength);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_UncasedPair_SameAsEncode(int maxLength)
    {
        var ml = new MLContext(seed: 1);
        var chain = Fit(ml, Uncased, pair: true, maxLength);

        AssertSameAsEncode(Uncased, Encode(ml, chain, Texts, Pairs), Texts, Pairs, maxLength);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(32)]
    [InlineData(512)]
    public void Chain_SmallCasedVocabulary_SameAsEncode(int maxLength)
    {
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(SmallCased, Encode(ml, Fit(ml, SmallCased, pair: false, maxLength), Texts), Texts, null, maxLength);
        AssertSameAsEncode(SmallCased, Encode(ml, Fit(ml, SmallCased, pair: true, maxLength), Texts, Pairs), Texts, Pairs, maxLength);
    }

    [Fact]
    public void Chain_SmallCasedVocabulary_KeepsCaseAndAccents()
    {
        // Ids are line indexes of SmallCased: [CLS] 2, Café 5, Hello 8, ##s 10, ! 11, [SEP] 3; "hellO" is [UNK] 1.
        var ml = new MLContext(seed: 1);
        var rows = Encode(ml, Fit(ml, SmallCased, pair: false, 16), ["Café Hellos!", "Cafe\u0301", "hellO"]);

        Assert.Equal([2, 5, 8, 10, 11, 3], rows[0].InputIds);
        Assert.Equal([2, 5, 3], rows[1].InputIds);
        Assert.Equal([2, 1, 3], rows[2].InputIds);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(128)]
    public void Chain_CasedRulesOnBertVocabulary_SameAsEncode(int maxLength)
    {
        // The uncased vocabulary read as cased: capitals and accents mostly become [UNK] or pieces, "[S\0EP]" is kept whole.
        var cased = BertTextTokenizer.Create(BertVocabulary.Path, lowerCase: false);
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(cased, Encode(ml, Fit(ml, cased, pair: false, maxLength), Texts), Texts, null, maxLength);
        AssertSameAsEncode(cased, Encode(ml, Fit(ml, cased, pair: true, maxLength), Texts, Pairs), Texts, Pairs, maxLength);
    }

    [Fact]
    public void Chain_KnownIds_AsBert()
    {
        // Ids from BertTextTokenizerIdsTests: hello 7592, world 2088, [SEP] 102 in text; pair types.
        var ml = new MLContext(seed: 1);
        var single = Encode(ml, Fit(ml, Uncased, pair: false, 512), ["hello[SEP] world", null, new string('a', 101)]);
        var pair = Encode(ml, Fit(ml, Uncased, pair: true, 8), ["a b c d"], ["w x y z"]);

        Assert.Equal([101, 7592, 102, 2088, 102], single[0].InputIds);
        Assert.Equal([101, 102], single[1].InputIds);
        Assert.Equal([101, 100, 102], single[2].InputIds);
        Assert.Equal([101, 1037, 1038, 1039, 102, 1059, 1060, 102], pair[0].InputIds);
        Assert.Equal([0, 0, 0, 0, 0, 1, 1, 1], pair[0].TokenTypeIds);
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 1], pair[0].AttentionMask);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(true, false)]
    public void ModelSave_LoadedInFreshContext_SameIds(bool pair, bool lowerCase)
    {
        var tokenizer = lowerCase ? Uncased : SmallCased;
        var pairs = pair ? Pairs : null;
        var ml = new MLContext(seed: 1);
        var (fresh, loaded) = SavedAndLoaded(ml, Fit(ml, tokenizer, pair, 32), pair);

        AssertSameAsEncode(tokenizer, Encode(fresh, loaded, Texts, pairs), Texts, pairs, 32);
    }

    [Fact]
    public void Chain_Output_OnlyTheOnnxInputsAdded()
    {
        var ml = new MLContext(seed: 1);

        AssertAddsOnlyTheOnnxInputs(ml, Fit(ml, Uncased, pair: true, 16));
    }

    [Fact]
    public void Build_MaxLengthOutOfRange_ThrowsNamingIt()
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TextTokenizationPipeline.Build(ml, "Text", null, Uncased.Vocabulary, true, 513));
        Assert.Equal("maxLength", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextTokenizationPipeline.Build(ml, "Text", "Pair", Uncased.Vocabulary, true, 2));
    }

    [Fact]
    public void Build_VocabularyWithoutUnk_ThrowsNamingToken()
    {
        var vocabulary = new Dictionary<string, int> { ["[PAD]"] = 0, ["[CLS]"] = 1, ["[SEP]"] = 2, ["[MASK]"] = 3, ["a"] = 4 };

        var e = Assert.Throws<ArgumentException>(() => TextTokenizationPipeline.Build(new MLContext(1), "Text", null, vocabulary, true, 8));
        Assert.Equal("vocabulary", e.ParamName);
        Assert.Contains("[UNK]", e.Message);
    }

    [Fact]
    public void RuntimeAssembly_ReferencesNoTrainingLibraryOrTorchSharp()
    {
        var references = typeof(WordPieceSelectMapping).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.DoesNotContain(references, n => n.StartsWith("MLNet.FineTuning", StringComparison.Ordinal) && n != "MLNet.FineTuning.Runtime");
        Assert.DoesNotContain(references, n => n.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void ContractNames_VersionedAndDistinct()
    {
        string[] names =
        [
            UncasedWordPieceCandidatesMapping.ContractName, CasedWordPieceCandidatesMapping.ContractName,
            UncasedPairWordPieceCandidatesMapping.ContractName, CasedPairWordPieceCandidatesMapping.ContractName,
            WordPieceSelectMapping.ContractName,
        ];

        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(names, n => Assert.EndsWith("/1", n));
    }
}
