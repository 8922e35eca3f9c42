using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime;
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

    /// <summary>The fitted chain saved with <c>mlContext.Model.Save</c> and loaded in a fresh context that knows only the
    /// runtime package's mappings, as a service loads it.</summary>
    public static (MLContext Fresh, ITransformer Loaded) SavedAndLoaded(MLContext ml, ITransformer chain, bool pair)
    {
        var zip = new MemoryStream();
        ml.Model.Save(chain, Load(ml, [""], pair ? [""] : null).Schema, zip);
        zip.Position = 0;
        var fresh = new MLContext(seed: 2).RegisterFineTuningRuntime();
        return (fresh, fresh.Model.Load(zip, out _));
    }

    /// <summary>Asserts that a pair chain adds exactly the ONNX model's three inputs to the input columns, as variable-length
    /// int64 vectors (its intermediate columns dropped).</summary>
    public static void AssertAddsOnlyTheOnnxInputs(MLContext ml, ITransformer pairChain)
    {
        var schema = pairChain.GetOutputSchema(Load(ml, [""], [""]).Schema);
        Assert.Equal([nameof(TextRow.Pair), nameof(TextRow.Text), BertExporter.AttentionMaskInput, BertExporter.InputIdsInput, BertExporter.TokenTypeIdsInput],
            schema.Where(c => !c.IsHidden).Select(c => c.Name).Order(StringComparer.Ordinal));
        foreach (string name in new[] { BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput })
        {
            var type = Assert.IsType<VectorDataViewType>(schema[name].Type);
            Assert.Equal(NumberDataViewType.Int64, type.ItemType);
            Assert.False(type.IsKnownSize);
        }
    }

    /// <summary>Asserts that each row equals the tokenizer's <see cref="ITextTokenizer.Encode"/>, naming the text on failure.</summary>
    public static void AssertSameAsEncode(ITextTokenizer tokenizer, EncodedRow[] rows, IReadOnlyList<string?> texts,
        IReadOnlyList<string?>? pairs, int maxLength) =>
        AssertSameAsEncode(tokenizer.Encode, rows, texts, pairs, maxLength);

    /// <summary>The best of three timings (the first round also pays for JIT) of the fitted chain over <paramref name="view"/>,
    /// read as ApplyOnnxModel reads it, and of <see cref="ITextTokenizer.Encode"/> over the same texts; with each one's token count.</summary>
    public static (double ChainSeconds, double EncodeSeconds, long ChainTokens, long EncodeTokens) BestOfThree(
        ITextTokenizer tokenizer, ITransformer chain, IDataView view, IReadOnlyList<string> texts, int maxLength)
    {
        long chainTokens = 0, encodeTokens = 0;
        double chainBest = double.MaxValue, encodeBest = double.MaxValue;
        for (int round = 0; round < 3; round++)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            chainTokens = ScoreLikeOnnxTransformer(chain.Transform(view));
            chainBest = Math.Min(chainBest, watch.Elapsed.TotalSeconds);

            watch.Restart();
            encodeTokens = texts.Sum(t => (long)tokenizer.Encode(t, null, maxLength).Length);
            encodeBest = Math.Min(encodeBest, watch.Elapsed.TotalSeconds);
        }
        return (chainBest, encodeBest, chainTokens, encodeTokens);
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
