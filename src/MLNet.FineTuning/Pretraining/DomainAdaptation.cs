using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Bert;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Pretraining;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning;

/// <summary>
/// Domain-adaptive pretraining (Gururangan et al. 2020, "Don't Stop Pretraining"): continues BERT's masked-language-model
/// training of a pretrained encoder on unlabelled text of the target domain, then writes the adapted encoder as a Hugging
/// Face BERT folder that <see cref="LoraTextClassifier"/> (and the other text estimators) load with
/// <c>Encoder = "bert-folder"</c>, <c>EncoderPath = folder</c>. Training runs in the library's one training loop (AdamW,
/// warmup + cosine, clipping, progress, cancellation, bf16 on CUDA); with LoRA the adapters are merged into the weights
/// before they are written.
/// </summary>
public static partial class DomainAdaptation
{
    /// <summary>Pretrains on the texts of a column of <paramref name="data"/> and writes the adapted encoder into <paramref name="outputFolder"/>.</summary>
    /// <param name="mlContext">Its log channel and GPU settings are used.</param>
    /// <param name="data">The unlabelled in-domain texts; only <see cref="Options.TextColumnName"/> is read.</param>
    /// <param name="outputFolder">Receives config.json, vocab.txt, tokenizer_config.json and model.safetensors (created if
    /// missing; those four files are replaced). Must not be the folder the encoder is read from.</param>
    /// <param name="options">What to adapt and how.</param>
    /// <exception cref="ArgumentOutOfRangeException">The text column is missing, or an option is out of range (named).</exception>
    /// <exception cref="ArgumentException">The column is not text, no text has a token, or the output folder is the source folder.</exception>
    public static DomainAdaptationResult Pretrain(MLContext mlContext, IDataView data, string outputFolder, Options options)
    {
        Check.NotNull(mlContext, nameof(mlContext));
        Check.NotNull(data, nameof(data));
        Check.NotNull(options, nameof(options));
        options.Validate();
        TextColumns.CheckTexts(data.Schema, options.TextColumnName, secondColumn: null);
        return Run(HostEnvironment.From(mlContext), ReadColumn(data, data.Schema[options.TextColumnName], options.CancellationToken), outputFolder, options);
    }

    /// <summary>Pretrains on <paramref name="texts"/> (null and empty ones skipped) and writes the adapted encoder into
    /// <paramref name="outputFolder"/>; see the <c>IDataView</c> overload.</summary>
    public static DomainAdaptationResult Pretrain(MLContext mlContext, IEnumerable<string?> texts, string outputFolder, Options options)
    {
        Check.NotNull(mlContext, nameof(mlContext));
        Check.NotNull(texts, nameof(texts));
        Check.NotNull(options, nameof(options));
        options.Validate();
        return Run(HostEnvironment.From(mlContext), texts, outputFolder, options);
    }

    private static IEnumerable<string?> ReadColumn(IDataView data, DataViewSchema.Column column, CancellationToken cancellation)
    {
        using var cursor = data.GetRowCursor([column]);
        var get = cursor.GetGetter<ReadOnlyMemory<char>>(column);
        ReadOnlyMemory<char> text = default;
        while (cursor.MoveNext())
        {
            cancellation.ThrowIfCancellationRequested();
            get(ref text);
            yield return text.ToString();
        }
    }

    private static DomainAdaptationResult Run(HostEnvironment env, IEnumerable<string?> texts, string outputFolder, Options o)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputFolder);
        if (o.EncoderPath is string source && Path.GetFullPath(source).TrimEnd(Path.DirectorySeparatorChar) == Path.GetFullPath(outputFolder).TrimEnd(Path.DirectorySeparatorChar))
            throw new ArgumentException($"The output folder '{outputFolder}' is the encoder's own folder (EncoderPath); write the adapted encoder elsewhere.", nameof(outputFolder));
        using var ch = env.Log.Start(nameof(DomainAdaptation));
        var watch = Stopwatch.StartNew();
        var checkpoint = PretrainedCatalog.GetTextEncoder(o.Encoder).CreatePretrained(o.EncoderPath);
        var config = checkpoint.Config;
        BertMaskedLanguageModel? model = null;
        try
        {
            if (o.MaxSequenceLength > config.MaxSequenceLength)
                throw new ArgumentOutOfRangeException(nameof(o.MaxSequenceLength), o.MaxSequenceLength,
                    $"MaxSequenceLength must be at most the encoder's {config.MaxSequenceLength} positions (max_position_embeddings {config.MaxPositionEmbeddings}).");
            if (config.ModelType != BertConfig.Bert)
                throw new NotSupportedException($"Domain-adaptive pretraining continues BERT's masked-language-model training; encoder '{o.Encoder}' is " +
                    $"{config.ModelType}, whose prediction head (lm_head) this library does not read. Use a BERT encoder.");
            var tokenizer = checkpoint.TokenizerFiles.GetTokenizer();
            // [CLS] and [SEP] alone leave nothing to predict.
            var encodings = texts.Where(t => !string.IsNullOrEmpty(t)).Select(t => tokenizer.Encode(t, null, o.MaxSequenceLength))
                                 .Where(e => e.Length > 2).ToArray();
            if (encodings.Length == 0 && o.Epochs > 0)
                throw new ArgumentException($"No text to pretrain on: every text of '{o.TextColumnName}' is missing or empty.", nameof(texts));

            using var generator = GlobalGenerator.Exclusive(ch);   // seeding to the last step: one training at a time
            manual_seed(o.Seed);
            var head = new BertLmPredictionHead(config);
            bool headFromCheckpoint = checkpoint.WeightsPath is string weights && BertWeightLoader.LoadPredictionHead(head, weights);
            model = new BertMaskedLanguageModel(checkpoint.Encoder, head);
            ch.Info(MessageSensitivity.None, $"domain adaptation of {o.Encoder} ({config}): {encodings.Length} texts, " +
                $"mean tokens {(encodings.Length == 0 ? 0 : encodings.Average(e => e.Length)):F1} (max {o.MaxSequenceLength}), prediction head " +
                (headFromCheckpoint ? "from the checkpoint" : "new (the checkpoint has none)") + $", {(o.FullFineTune ? "full fine-tuning" : $"LoRA rank {o.Rank}")}");

            TrainingResult? result = null;
            long trainable = 0;
            if (o.Epochs > 0)
            {
                var lora = o.FullFineTune ? null : LoraInjector.Apply(checkpoint.Encoder, o.LoraConfig);
                var tunable = new MaskedLanguageFineTunable(model, lora);
                trainable = tunable.BackboneParameters.Concat(tunable.HeadParameters).Sum(p => p.Parameter.numel());
                var device = TrainingDevice.Select(env.GpuDeviceId, env.FallbackToCpu);
                var loop = new TrainingLoop(o.LoopOptions(), device, ch, () => [], task: new MaskedLanguageModelTask());
                var recipe = new MaskingRecipe(o.MaskProbability, tokenizer.MaskId, Math.Min(config.VocabSize, tokenizer.VocabularySize),
                    [tokenizer.ClsId, tokenizer.SepId, tokenizer.PadId, tokenizer.UnkId, tokenizer.MaskId]);
                using var batches = new MaskedTextBatchSource(
                    new TextBatchSource(TextDataset.Unlabelled(encodings), o.BatchSize, train: true, o.Seed, tokenizer.PadId), recipe, o.Seed);
                result = loop.Run(tunable, batches, validation: null);
                // The adapted encoder as plain BERT: what the bert-folder loader and Hugging Face read.
                lora?.Remove(merge: true);
            }
            var state = model.state_dict().ToDictionary(
                kv => kv.Key.StartsWith("head.", StringComparison.Ordinal) ? BertLmPredictionHead.HuggingFacePrefix + kv.Key["head.".Length..] : kv.Key,
                kv => kv.Value);
            BertFolderWriter.Write(outputFolder, config, checkpoint.TokenizerFiles.Files[TextTokenizerFiles.WordPieceVocabularyFile], checkpoint.LowerCase, state, "BertForMaskedLM");
            ch.Info(MessageSensitivity.None, $"adapted encoder written to '{outputFolder}' in {watch.Elapsed.TotalSeconds:F0} s");
            return new DomainAdaptationResult
            {
                Folder = Path.GetFullPath(outputFolder), Texts = encodings.Length, Tokens = encodings.Sum(e => (long)e.Length),
                Epochs = result?.Epochs ?? [], TrainableParameters = trainable, HeadFromCheckpoint = headFromCheckpoint, Duration = watch.Elapsed,
            };
        }
        finally
        {
            if (model != null) model.Dispose(); else checkpoint.Encoder.Dispose();
        }
    }
}

/// <summary>What <see cref="DomainAdaptation.Pretrain(MLContext, IDataView, string, DomainAdaptation.Options)"/> did.</summary>
public sealed class DomainAdaptationResult
{
    /// <summary>The written folder (full path): pass it as <c>EncoderPath</c> with <c>Encoder = "bert-folder"</c>.</summary>
    public required string Folder { get; init; }
    /// <summary>Texts trained on (missing, empty and token-less ones skipped).</summary>
    public required int Texts { get; init; }
    /// <summary>Their tokens after truncation, special tokens included.</summary>
    public required long Tokens { get; init; }
    /// <summary>One entry per epoch; <see cref="TrainingProgress.TrainLoss"/> is the mean masked-token cross-entropy. Empty with 0 epochs.</summary>
    public required IReadOnlyList<TrainingProgress> Epochs { get; init; }
    /// <summary>Numbers trained: adapters (or the whole encoder) and the prediction head.</summary>
    public required long TrainableParameters { get; init; }
    /// <summary>Whether the prediction head started from the checkpoint's <c>cls.predictions.*</c> (else it was new).</summary>
    public required bool HeadFromCheckpoint { get; init; }
    /// <summary>Wall time, loading and writing included.</summary>
    public required TimeSpan Duration { get; init; }
}
