using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Runs the saved-model tokenization chains (<see cref="TextTokenizationPipeline"/>, <see cref="ByteLevelBpeTokenizationPipeline"/>) over texts in tests.</summary>
internal static class TextTokenizationChain
{
    public sealed class TextRow
    {
        public string? Text { get; set; }

        public string? Pair { get; set; }
    }

    public sealed class EncodedRow
    {
        [ColumnName("input_ids")]
        public long[] InputIds { get; set; } = [];

        [ColumnName("attention_mask")]
        public long[] AttentionMask { get; set; } = [];

        [ColumnName("token_type_ids")]
        public long[] TokenTypeIds { get; set; } = [];
    }

    public static IDataView Load(MLContext ml, IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs = null) =>
        ml.Data.LoadFromEnumerable(texts.Select((t, i) => new TextRow { Text = t, Pair = pairs?[i] }).ToList());

    /// <summary>Builds and fits the chain for <paramref name="tokenizer"/>'s vocabulary and casing.</summary>
    public static ITransformer Fit(MLContext ml, BertTextTokenizer tokenizer, bool pair, int maxLength) =>
        TextTokenizationPipeline.Build(ml, nameof(TextRow.Text), pair ? nameof(TextRow.Pair) : null,
            tokenizer.Vocabulary, tokenizer.LowerCase, maxLength).Fit(Load(ml, [""], pair ? [""] : null));

    /// <summary>Builds and fits the byte-level BPE chain for <paramref name="tokenizer"/>'s vocabulary, merges and prefix space.</summary>
    public static ITransformer Fit(MLContext ml, RobertaTextTokenizer tokenizer, bool pair, int maxLength) =>
        ByteLevelBpeTokenizationPipeline.Build(ml, nameof(TextRow.Text), pair ? nameof(TextRow.Pair) : null,
            tokenizer.Vocabulary, tokenizer.Merges, tokenizer.AddPrefixSpace, maxLength).Fit(Load(ml, [""], pair ? [""] : null));

    public static EncodedRow[] Encode(MLContext ml, ITransformer chain, IReadOnlyList<string?> texts, IReadOnlyList<string?>? pairs = null) =>
        [.. ml.Data.CreateEnumerable<EncodedRow>(chain.Transform(Load(ml, texts, pairs)), reuseRowObject: false)];

    /// <summary>Asserts that each row equals <see cref="BertTextTokenizer.Encode"/>, naming the text on failure.</summary>
    public static void AssertSameAsEncode(BertTextTokenizer tokenizer, EncodedRow[] rows, IReadOnlyList<string?> texts,
        IReadOnlyList<string?>? pairs, int maxLength) =>
        AssertSameAsEncode(tokenizer.Encode, rows, texts, pairs, maxLength);

    /// <summary>Asserts that each row equals <see cref="RobertaTextTokenizer.Encode"/>, naming the text on failure.</summary>
    public static void AssertSameAsEncode(RobertaTextTokenizer tokenizer, EncodedRow[] rows, IReadOnlyList<string?> texts,
        IReadOnlyList<string?>? pairs, int maxLength) =>
        AssertSameAsEncode(tokenizer.Encode, rows, texts, pairs, maxLength);

    private static void AssertSameAsEncode(Func<string?, string?, int, BertEncoding> encode, EncodedRow[] rows, IReadOnlyList<string?> texts,
        IReadOnlyList<string?>? pairs, int maxLength)
    {
        Assert.Equal(texts.Count, rows.Length);
        for (int i = 0; i < rows.Length; i++)
        {
            var expected = encode(texts[i], pairs?[i] ?? (pairs is null ? null : ""), maxLength);
            string what = $"row {i}, maxLength {maxLength}: \"{Shorten(texts[i])}\"" + (pairs is null ? "" : $" + \"{Shorten(pairs[i])}\"");
            Assert.True(expected.InputIds.SequenceEqual(rows[i].InputIds),
                $"{what}: ids [{string.Join(", ", rows[i].InputIds)}], expected [{string.Join(", ", expected.InputIds)}]");
            Assert.True(expected.TokenTypeIds.SequenceEqual(rows[i].TokenTypeIds), $"{what}: token types differ");
            Assert.True(expected.AttentionMask.SequenceEqual(rows[i].AttentionMask), $"{what}: attention mask differs");
        }
    }

    private static string Shorten(string? text) => text is null ? "(null)" : text.Length <= 40 ? text : text[..40] + $"… ({text.Length} chars)";
}
