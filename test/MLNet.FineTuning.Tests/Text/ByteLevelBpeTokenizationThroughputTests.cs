using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using Xunit.Abstractions;
using static MLNet.FineTuning.Tests.Text.TextTokenizationChain;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Measures the saved-model byte-level BPE chain against <see cref="RobertaTextTokenizer.Encode"/> on the WordPiece
/// chain's 200 texts of 1–3 KB and writes texts/s to the test output. Asserts only that both give the same ids: timings on
/// the shared build machines are too noisy to gate on.
/// </summary>
public class ByteLevelBpeTokenizationThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_200TextsOf1To3KB_ReportsTextsPerSecond(int maxLength)
    {
        var tokenizer = RobertaVocabulary.Tokenizer;
        string[] texts = TokenizerTexts.Long(200, 1000, 3000, seed: 7);
        var ml = new MLContext(seed: 1);
        var chain = Fit(ml, tokenizer, pair: false, maxLength);
        var view = Load(ml, texts);

        var (chainBest, encodeBest, chainTokens, encodeTokens) = BestOfThree(tokenizer, chain, view, texts, maxLength);

        // Both lookups' keys per text: the byte pairs and the candidates, read before the chain drops them.
        IDataView steps = view;
        foreach (var step in ((IEnumerable<ITransformer>)chain).SkipLast(1)) steps = step.Transform(steps);
        var rows = ml.Data.CreateEnumerable<LookupRow>(steps, reuseRowObject: false).ToList();
        double candidates = rows.Average(r => r.Candidates.Length), pairs = rows.Average(r => r.BytePairs.Length);
        output.WriteLine($"maxLength {maxLength}, {texts.Length} texts of {texts.Min(t => t.Length)}–{texts.Max(t => t.Length)} chars, " +
            $"{Environment.ProcessorCount} cores: chain {texts.Length / chainBest:F0} texts/s, Encode {texts.Length / encodeBest:F0} texts/s " +
            $"(chain/Encode {encodeBest / chainBest:F2}); {pairs:F0} byte pairs and {candidates:F0} candidates per text");
        Assert.Equal(encodeTokens, chainTokens);
        AssertSameAsEncode(tokenizer, Encode(ml, chain, texts), texts, null, maxLength);
    }

    private sealed class LookupRow
    {
        [ColumnName(ByteLevelBpeWords.BytePairsColumn)]
        public string[] BytePairs { get; set; } = [];

        [ColumnName(ByteLevelBpePiecesMapping.CandidatesColumn)]
        public string[] Candidates { get; set; } = [];
    }
}
