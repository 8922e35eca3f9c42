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
/// The saved-model byte-level BPE chain gives exactly <see cref="RobertaTextTokenizer.Encode"/>'s ids, masks and token
/// types (which equal Hugging Face's: <see cref="RobertaHuggingFaceParityTests"/>), and keeps giving them after
/// <c>mlContext.Model.Save</c>/<c>Load</c>.
/// </summary>
public class ByteLevelBpeTokenizationPipelineTests
{
    private static RobertaTextTokenizer Roberta => RobertaVocabulary.Tokenizer;

    /// <summary>The parity tests' hand-picked texts, random ones, a few of thousands of characters, and one of ~40,000.</summary>
    private static readonly string?[] Texts =
        [.. RobertaTexts.Varied, .. RobertaTexts.Random(300, seed: 21), .. TokenizerTexts.Long(6, 2000, 6000, seed: 11), HugeText()];

    /// <summary>A pair for each text: another text of the set, so short, empty, null and long meet in every order.</summary>
    private static readonly string?[] Pairs = [.. Texts.Select((_, i) => Texts[(i * 7 + 3) % Texts.Length])];

    private static string HugeText()
    {
        var text = new StringBuilder();
        for (int i = 0; i < 1200; i++)
            text.Append(i % 7 == 0 ? "Naïve café, " : "word-").Append(i).Append(i % 50 == 0 ? " <mask>\n" : " $x_y\t");
        return text.ToString();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(32)]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_Single_SameAsEncode(int maxLength)
    {
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(Roberta, Encode(ml, Fit(ml, Roberta, pair: false, maxLength), Texts), Texts, null, maxLength);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_Pair_SameAsEncode(int maxLength)
    {
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(Roberta, Encode(ml, Fit(ml, Roberta, pair: true, maxLength), Texts, Pairs), Texts, Pairs, maxLength);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Chain_PrefixSpace_SameAsEncode(bool pair)
    {
        var tokenizer = RobertaVocabulary.PrefixSpaceTokenizer;
        var pairs = pair ? Pairs : null;
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(tokenizer, Encode(ml, Fit(ml, tokenizer, pair, 64), Texts, pairs), Texts, pairs, 64);
    }

    [Fact]
    public void Chain_KnownIds_AsHuggingFace()
    {
        // Ids from Hugging Face's Rust tokenizer on the derived vocabulary (GPT-2 id + 4): Hello 15500, Ġworld 999, ! 4;
        // <mask> (50260) takes in the space before it.
        var ml = new MLContext(seed: 1);
        var single = Encode(ml, Fit(ml, Roberta, pair: false, 16), ["Hello world <mask>!", null]);
        var pair = Encode(ml, Fit(ml, Roberta, pair: true, 8), ["Hello world", ""], ["!", null]);

        Assert.Equal([0, 15500, 999, 50260, 4, 2], single[0].InputIds);
        Assert.Equal([0, 2], single[1].InputIds);
        Assert.Equal([0, 15500, 999, 2, 2, 4, 2], pair[0].InputIds);
        Assert.Equal([0, 2, 2, 2], pair[1].InputIds);
        Assert.All(pair[0].TokenTypeIds, t => Assert.Equal(0, t));
        Assert.All(pair[0].AttentionMask, m => Assert.Equal(1, m));
    }

    [Fact]
    public void Chain_LowerRankedPairTakesTheMiddle_NoMergeAtAnotherSplit()
    {
        // "abc" is a token made from (ab, c), but (b, c) ranks first, so BPE gives a + bc; the lookup knows "abc" only
        // by the merge that makes it (split after 2), so the pair (a, bc) must not merge either.
        var small = SmallBpeVocabulary.Create(("b", "c"), ("a", "b"), ("ab", "c"), ("a", "a"), ("aa", "aa"));
        int a = small.Vocabulary["a"], bc = small.Vocabulary["bc"], aa = small.Vocabulary["aa"], aaaa = small.Vocabulary["aaaa"];
        var ml = new MLContext(seed: 1);
        var rows = Encode(ml, Fit(ml, small, pair: false, 16), ["abc", "aaaaa", "ab"]);

        Assert.Equal([small.ClsId, a, bc, small.SepId], rows[0].InputIds);
        Assert.Equal([small.ClsId, aaaa, a, small.SepId], rows[1].InputIds);
        Assert.Equal(small.Encode("ab", null, 16).InputIds, rows[2].InputIds);
        Assert.Equal(small.Encode("abc", null, 16).InputIds, rows[0].InputIds);
        Assert.Equal(small.Encode("aaaaa", null, 16).InputIds, rows[1].InputIds);
        Assert.NotEqual(0, aa);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(512)]
    public void Chain_LongPeriodicRuns_SameAsEncode(int maxLength)
    {
        // Pieces of 256 bytes or more that repeat with a period up to 8 list only their first starts' candidates.
        string[] texts =
        [
            new string('-', 255), new string('-', 256), new string('-', 257), new string('-', 20_000), "x" + new string('=', 3000) + "y",
            string.Concat(Enumerable.Repeat("ÃÂ", 1500)), string.Concat(Enumerable.Repeat("-=", 400)), string.Concat(Enumerable.Repeat("abcdefgh", 100)),
            string.Concat(Enumerable.Repeat("abcdefghi", 100)), new string('a', 5000) + "b", "b" + new string('a', 5000),
            string.Concat(Enumerable.Repeat("😀", 300)), new string(' ', 4000), new string('.', 777) + " end",
        ];
        var ml = new MLContext(seed: 1);

        AssertSameAsEncode(Roberta, Encode(ml, Fit(ml, Roberta, pair: false, maxLength), texts), texts, null, maxLength);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void ModelSave_LoadedInFreshContext_SameIds(bool pair, bool addPrefixSpace)
    {
        var tokenizer = addPrefixSpace ? RobertaVocabulary.PrefixSpaceTokenizer : Roberta;
        var pairs = pair ? Pairs : null;
        var ml = new MLContext(seed: 1);
        var (fresh, loaded) = SavedAndLoaded(ml, Fit(ml, tokenizer, pair, 32), pair);

        AssertSameAsEncode(tokenizer, Encode(fresh, loaded, Texts, pairs), Texts, pairs, 32);
    }

    [Fact]
    public void Chain_Output_OnlyTheOnnxInputsAdded()
    {
        var ml = new MLContext(seed: 1);

        AssertAddsOnlyTheOnnxInputs(ml, Fit(ml, Roberta, pair: true, 16));
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData(null, 513)]
    [InlineData("Pair", 3)]
    [InlineData("Pair", 33)]
    [InlineData("Pair", 514)]
    public void Build_MaxLengthOutOfRange_ThrowsNamingIt(string? pairColumn, int maxLength)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ByteLevelBpeTokenizationPipeline.Build(new MLContext(1), "Text", pairColumn, Roberta.Vocabulary, Roberta.Merges, false, maxLength));

        Assert.Equal("maxLength", e.ParamName);
    }

    [Fact]
    public void Build_TwoMergesMakeOneToken_ThrowsNamingBoth()
    {
        (string, string)[] merges = [("a", "b"), ("ab", "c"), ("a", "bc"), ("b", "c")];
        var vocabulary = SmallBpeVocabulary.Tokens(merges).Distinct().Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);

        var e = Assert.Throws<ArgumentException>(() =>
            ByteLevelBpeTokenizationPipeline.Build(new MLContext(1), "Text", null, vocabulary, merges, false, 16));
        Assert.Equal("merges", e.ParamName);
        Assert.Contains("Merges 1 and 2 both make 'abc'", e.Message);
    }

    [Fact]
    public void Build_MergeLongerThan128Bytes_ThrowsNamingIt()
    {
        var merges = Enumerable.Range(1, 8).Select(k => (new string('a', 1 << (k - 1)), new string('a', 1 << (k - 1)))).ToArray();
        var vocabulary = SmallBpeVocabulary.Tokens(merges).Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);

        var e = Assert.Throws<ArgumentException>(() =>
            ByteLevelBpeTokenizationPipeline.Build(new MLContext(1), "Text", null, vocabulary, merges, false, 16));
        Assert.Contains("Merge 7 makes", e.Message);
        Assert.Contains("256 bytes", e.Message);
    }

    [Fact]
    public void Build_VocabularyWithoutMask_ThrowsNamingToken()
    {
        var vocabulary = Roberta.Vocabulary.Where(p => p.Key != "<mask>").ToDictionary();

        var e = Assert.Throws<ArgumentException>(() =>
            ByteLevelBpeTokenizationPipeline.Build(new MLContext(1), "Text", null, vocabulary, Roberta.Merges, false, 16));
        Assert.Equal("vocabulary", e.ParamName);
        Assert.Contains("<mask>", e.Message);
    }

    [Fact]
    public void ContractNames_VersionedAndDistinct()
    {
        string[] names =
        [
            ByteLevelBpeWordsMapping.ContractName, PrefixSpaceByteLevelBpeWordsMapping.ContractName,
            PairByteLevelBpeWordsMapping.ContractName, PrefixSpacePairByteLevelBpeWordsMapping.ContractName,
            ByteLevelBpePiecesMapping.ContractName, ByteLevelBpeSelectMapping.ContractName, UncasedWordPieceCandidatesMapping.ContractName, WordPieceSelectMapping.ContractName,
        ];

        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(@"^MLNet\.FineTuning\.[A-Za-z.]+/[1-9][0-9]*$", n));
        // The first byte-level design's names, saved by main for a while: never given to a step that means something else.
        string[] retired = ["MLNet.FineTuning.ByteLevelBpeCandidates/1", "MLNet.FineTuning.ByteLevelBpeCandidates.PrefixSpace/1",
            "MLNet.FineTuning.ByteLevelBpeCandidates.Pair/1", "MLNet.FineTuning.ByteLevelBpeCandidates.PrefixSpacePair/1", "MLNet.FineTuning.ByteLevelBpeSelect/1"];
        Assert.Empty(names.Intersect(retired));
    }
}
