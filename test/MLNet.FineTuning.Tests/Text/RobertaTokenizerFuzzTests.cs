using System.Text;
using Microsoft.ML;
using MLNet.FineTuning.Runtime.Text;
using static MLNet.FineTuning.Tests.Text.TextTokenizationChain;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Fuzzing RoBERTa's tokenizer and its saved chain with the texts of <see cref="TokenizerFuzzTests"/> (any Unicode plane,
/// lone surrogates, control and format characters, runs, invalid UTF-8 read as text, 10 MB): ids of the vocabulary within
/// the limit, <c>&lt;s&gt;</c> first and <c>&lt;/s&gt;</c> last, the chain equal to <see cref="RobertaTextTokenizer.Encode"/>,
/// never a throw, and the same ids from many threads at once.
/// </summary>
public sealed class RobertaTokenizerFuzzTests
{
    [Fact]
    public void RandomTexts_EncodeToVocabularyIdsWithinTheLimit_ChainAgrees()
    {
        var tokenizer = RobertaVocabulary.Tokenizer;
        var random = new Random(23);
        var texts = Enumerable.Range(0, 600).Select(_ => TokenizerFuzzTests.RandomText(random)).ToList();
        texts.AddRange(["", " ", "\t\n\r ", "\u200B\u200B", "\uFEFF", new string('a', 20_000)]);
        texts.Add(Encoding.UTF8.GetString([0xC3, 0x28, 0xFF, 0xFE, 0xE2, 0x82, 0x61, 0xF0, 0x9F]));   // invalid UTF-8, as .NET decodes it
        texts.Add(string.Concat(Enumerable.Repeat("word ", 2_000_000)));   // 10 MB
        var pairs = texts.Select((_, i) => i % 3 == 0 ? TokenizerFuzzTests.RandomText(random) : "").ToList();

        foreach (var (text, i) in texts.Select((t, i) => (t, i)))
        {
            var encoding = tokenizer.Encode(text, i % 3 == 0 ? pairs[i] : null, maxLength: 64);

            string what = $"text {i} ({text.Length} chars)";
            Assert.InRange(encoding.Length, 2, 64);
            Assert.Equal(tokenizer.ClsId, encoding.InputIds[0]);
            Assert.Equal(tokenizer.SepId, encoding.InputIds[^1]);
            Assert.All(encoding.InputIds, id => Assert.True(id >= 0 && id < tokenizer.VocabularySize, $"{what}: id {id}"));
        }

        var ml = new MLContext(seed: 1);
        AssertSameAsEncode(tokenizer, Encode(ml, Fit(ml, tokenizer, pair: false, 64), texts), texts, null, 64);
        AssertSameAsEncode(tokenizer, Encode(ml, Fit(ml, tokenizer, pair: true, 64), texts, pairs), texts, pairs, 64);
    }

    [Fact]
    public void Encode_ManyThreadsAtOnce_SameIdsAsOneThread()
    {
        var tokenizer = RobertaVocabulary.Tokenizer;
        string[] texts = RobertaTexts.Random(400, seed: 31);
        var expected = texts.Select(t => tokenizer.Encode(t, null, 256).InputIds).ToArray();

        var actual = new long[texts.Length][];
        Parallel.For(0, texts.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
            actual[k % texts.Length] = tokenizer.Encode(texts[k % texts.Length], null, 256).InputIds);

        for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }
}
