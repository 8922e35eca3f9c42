using MLNet.FineTuning.Runtime.Text;
using Xunit.Abstractions;
using HfTokenizer = Tokenizers.DotNet.Tokenizer;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// <see cref="RobertaTextTokenizer"/> gives the ids of Hugging Face's Rust tokenizers (the library behind
/// <c>RobertaTokenizerFast</c>, through Tokenizers.DotNet 1.4.1) on a RoBERTa-layout vocabulary derived from GPT-2's
/// (<see cref="RobertaVocabulary"/>): a few thousand varied texts, with and without the prefix space, whole and
/// truncated. Tokenizers.DotNet encodes single texts only, so pairs are checked against HF's single-text ids put
/// together as the Rust code does (<see cref="RustPair"/>).
/// </summary>
public class RobertaHuggingFaceParityTests(ITestOutputHelper output)
{
    /// <summary>Without lone surrogates: HF's text is UTF-8, and Tokenizers.DotNet refuses them ("Invalid UTF-16 text string").</summary>
    private static readonly string?[] Texts =
        [.. new[] { RobertaTexts.Varied, RobertaTexts.Random(3000, seed: 5), TokenizerTexts.Long(20, 200, 3000, seed: 9) }
            .SelectMany(t => t).Where(t => t is null || System.Text.Unicode.Utf8.FromUtf16(t, new byte[t.Length * 3], out _, out _, replaceInvalidSequences: false) == System.Buffers.OperationStatus.Done)];

    [Fact]
    public void Encode_LoneSurrogate_AsReplacementCharacter()
    {
        // What .NET's UTF-8 encoder sends a native tokenizer in its place (Tokenizers.DotNet refuses such strings instead).
        var tokenizer = RobertaVocabulary.Tokenizer;

        Assert.Equal(tokenizer.Encode("a\uFFFDb \uFFFD", null, 64).InputIds, tokenizer.Encode("a\uD800b \uDC00", null, 64).InputIds);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_VariedTexts_SameIdsAsHuggingFace(bool addPrefixSpace)
    {
        var tokenizer = addPrefixSpace ? RobertaVocabulary.PrefixSpaceTokenizer : RobertaVocabulary.Tokenizer;
        using var hf = new HfTokenizer(RobertaVocabulary.WriteTokenizerJson(addPrefixSpace));

        AssertSame(Texts, text => hf.Encode(text ?? ""), text => tokenizer.Encode(text, null, int.MaxValue).InputIds, $"addPrefixSpace {addPrefixSpace}");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(64)]
    public void Encode_Truncated_SameIdsAsHuggingFace(int maxLength)
    {
        using var hf = new HfTokenizer(RobertaVocabulary.WriteTokenizerJson(addPrefixSpace: false, truncation: maxLength));

        AssertSame(Texts, text => hf.Encode(text ?? ""), text => RobertaVocabulary.Tokenizer.Encode(text, null, maxLength).InputIds, $"maxLength {maxLength}");
    }

    [Theory]
    [InlineData(4, false)]
    [InlineData(7, false)]
    [InlineData(16, false)]
    [InlineData(33, true)]
    [InlineData(128, false)]
    public void Encode_Pairs_SameIdsAsHuggingFacePostProcessing(int maxLength, bool addPrefixSpace)
    {
        var tokenizer = addPrefixSpace ? RobertaVocabulary.PrefixSpaceTokenizer : RobertaVocabulary.Tokenizer;
        using var hf = new HfTokenizer(RobertaVocabulary.WriteTokenizerJson(addPrefixSpace));
        var pairs = Texts.Select((_, i) => Texts[(i * 7 + 3) % Texts.Length]).ToArray();
        var texts = Enumerable.Range(0, Texts.Length).Select(i => (Texts[i], pairs[i])).ToList();

        AssertSame(texts, t => RustPair(hf.Encode(t.Item1 ?? ""), hf.Encode(t.Item2 ?? ""), maxLength),
            t => tokenizer.Encode(t.Item1, t.Item2 ?? "", maxLength).InputIds, $"pairs, maxLength {maxLength}");
    }

    /// <summary>
    /// What HF's Rust tokenizer does with a pair, from two single encodings (each <c>&lt;s&gt; … &lt;/s&gt;</c>): strip the
    /// specials, truncate as tokenizers' utils/truncation.rs <c>truncate_encodings</c> with max_length − 4 (the
    /// post-processor's added tokens), then RobertaProcessing's <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>.
    /// Written here from the Rust code, independently of the library's <c>BertTruncation</c>.
    /// </summary>
    private static long[] RustPair(uint[] first, uint[] second, int maxLength)
    {
        var a = first[1..^1];
        var b = second[1..^1];
        int budget = maxLength - 4;
        int n1 = a.Length, n2 = b.Length;
        if (n1 + n2 > budget)
        {
            bool swap = n1 > n2;
            if (swap) (n1, n2) = (n2, n1);
            n2 = n1 > budget ? n1 : Math.Max(n1, budget - n1);
            if (n1 + n2 > budget)
            {
                n1 = budget / 2;
                n2 = n1 + budget % 2;
            }
            if (swap) (n1, n2) = (n2, n1);
        }
        return [first[0], .. a[..Math.Min(n1, a.Length)].Select(x => (long)x), first[^1], second[^1], .. b[..Math.Min(n2, b.Length)].Select(x => (long)x), second[^1]];
    }

    private void AssertSame<T>(IReadOnlyList<T> inputs, Func<T, IEnumerable<uint>> huggingFace, Func<T, long[]> ours, string what) =>
        AssertSame(inputs, t => [.. huggingFace(t).Select(x => (long)x)], ours, what);

    private void AssertSame<T>(IReadOnlyList<T> inputs, Func<T, long[]> huggingFace, Func<T, long[]> ours, string what)
    {
        var failures = new List<string>();
        long tokens = 0;
        foreach (var input in inputs)
        {
            long[] expected = huggingFace(input), actual = ours(input);
            tokens += expected.Length;
            if (!expected.SequenceEqual(actual))
                failures.Add($"{Show(input)}: HF [{string.Join(", ", expected)}], ours [{string.Join(", ", actual)}]");
        }
        output.WriteLine($"{what}: {inputs.Count} inputs, {tokens} HF tokens, {failures.Count} differ");
        foreach (string failure in failures.Take(10)) output.WriteLine(failure);
        Assert.True(failures.Count == 0, $"{what}: {failures.Count} of {inputs.Count} differ; first: {failures.FirstOrDefault()}");
    }

    private static string Show<T>(T input) => input switch
    {
        ValueTuple<string?, string?> pair => Show(pair.Item1) + " + " + Show(pair.Item2),
        string s => "\"" + string.Concat(s.Take(60).Select(c => c < ' ' || c is >= '\u007F' and < '\u00A1' ? $"\\u{(int)c:X4}" : c.ToString())) + (s.Length > 60 ? $"…\" ({s.Length} chars)" : "\""),
        _ => "(null)",
    };
}
