using System.Diagnostics;
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

        long chainTokens = 0, encodeTokens = 0;
        double chainBest = double.MaxValue, encodeBest = double.MaxValue;
        for (int round = 0; round < 3; round++) // the best of three: the first round also pays for JIT
        {
            var watch = Stopwatch.StartNew();
            chainTokens = ScoreLikeOnnxTransformer(chain.Transform(view));
            chainBest = Math.Min(chainBest, watch.Elapsed.TotalSeconds);

            watch.Restart();
            encodeTokens = texts.Sum(t => (long)tokenizer.Encode(t, null, maxLength).Length);
            encodeBest = Math.Min(encodeBest, watch.Elapsed.TotalSeconds);
        }

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

    /// <summary>Reads the three outputs through getters, one row at a time, as ApplyOnnxModel does; returns the token count.</summary>
    private static long ScoreLikeOnnxTransformer(IDataView scored)
    {
        var columns = new[] { "input_ids", "attention_mask", "token_type_ids" }.Select(n => scored.Schema[n]).ToArray();
        using var cursor = scored.GetRowCursor(columns);
        var getters = columns.Select(c => cursor.GetGetter<VBuffer<long>>(c)).ToArray();
        VBuffer<long> ids = default, other = default;
        long tokens = 0;
        while (cursor.MoveNext())
        {
            getters[0](ref ids);
            getters[1](ref other);
            getters[2](ref other);
            tokens += ids.Length;
        }
        return tokens;
    }

    private sealed class LookupRow
    {
        [ColumnName(ByteLevelBpeWords.BytePairsColumn)]
        public string[] BytePairs { get; set; } = [];

        [ColumnName(ByteLevelBpePiecesMapping.CandidatesColumn)]
        public string[] Candidates { get; set; } = [];
    }
}
