using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using Xunit.Abstractions;
using static MLNet.FineTuning.Tests.Text.TextTokenizationChain;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Measures the saved-model tokenization chain against <see cref="BertTextTokenizer.Encode"/> on 200 texts of 1–3 KB
/// (the size of a typical e-mail body) and writes texts/s to the test output. Asserts only that both give the same
/// ids: timings on the shared build machines are too noisy to gate on.
/// </summary>
public class TextTokenizationThroughputTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(128)]
    [InlineData(512)]
    public void Chain_200TextsOf1To3KB_ReportsTextsPerSecond(int maxLength)
    {
        var tokenizer = BertVocabulary.Uncased;
        string[] texts = TokenizerTexts.Long(200, 1000, 3000, seed: 7);
        var ml = new MLContext(seed: 1);
        var chain = Fit(ml, tokenizer, pair: false, maxLength);
        var view = Load(ml, texts);

        var (chainBest, encodeBest, chainTokens, encodeTokens) = BestOfThree(tokenizer, chain, view, texts, maxLength);

        var candidates = ml.Data.CreateEnumerable<CandidateRow>(
            ml.Transforms.CopyColumns(WordPieceCandidates.TextColumn, nameof(TextRow.Text))
                .Append(ml.Transforms.CustomMapping<WordPieceCandidates.TextInput, WordPieceCandidates.Output>(
                    UncasedWordPieceCandidatesMapping.Map, UncasedWordPieceCandidatesMapping.ContractName))
                .Fit(view).Transform(view), reuseRowObject: false).Average(r => r.Candidates.Length);
        output.WriteLine($"maxLength {maxLength}, {texts.Length} texts of {texts.Min(t => t.Length)}–{texts.Max(t => t.Length)} chars, " +
            $"{Environment.ProcessorCount} cores: chain {texts.Length / chainBest:F0} texts/s, Encode {texts.Length / encodeBest:F0} texts/s " +
            $"(chain/Encode {encodeBest / chainBest:F2}); {candidates:F0} candidates per text");
        Assert.Equal(encodeTokens, chainTokens);
        AssertSameAsEncode(tokenizer, Encode(ml, chain, texts), texts, null, maxLength);
    }

    private sealed class CandidateRow
    {
        [ColumnName(WordPieceCandidates.CandidatesColumn)]
        public string[] Candidates { get; set; } = [];
    }
}
