using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;
using Options = MLNet.FineTuning.LoraTextClassifier.Options;

namespace MLNet.FineTuning.Text;

/// <summary>The tokenized rows, read once, and what every model built on them shares. The encoder loaded to get the
/// vocabulary serves the first model; later ones load the pretrained weights again.</summary>
internal sealed class TextRows(TextDataset train, TextDataset? valid, string[] classNames, TextEncoderDefinition definition,
                               TextTokenizerFiles tokenizerFiles, BertEncoder firstEncoder) : IFineTuningRows
{
    private BertEncoder? unused = firstEncoder;
    /// <summary>The training targets' scaling (regression only).</summary>
    public TargetScaling? Scaling { get; init; }
    public TextDataset Train => train;
    public TextDataset? Valid => valid;
    public string[] ClassNames => classNames;
    public int TrainCount => train.Count;
    public int[] TrainClasses => train.ClassIndices;
    public int ValidCount => valid?.Count ?? 0;
    public TextEncoderDefinition Definition => definition;
    public ITextTokenizer Tokenizer => tokenizerFiles.GetTokenizer();
    public TextTokenizerFiles TokenizerFiles => tokenizerFiles;

    public BertEncoder NewEncoder(string? path)
    {
        var encoder = unused ?? definition.CreatePretrained(path).Encoder;
        unused = null;
        return encoder;
    }
}

/// <summary>A trained text classifier, its LoRA adapters (null with full fine-tuning) and how many numbers they train;
/// disposing it frees the weights.</summary>
internal sealed record TextModel(TextClassifier Classifier, LoraInjector? Lora, long AdapterParameters) : IDisposable
{
    public void Dispose() => Classifier.Dispose();
}

/// <summary>The text modality's hooks into the shared Fit outline, for every text task: text columns tokenized once, the
/// pretrained encoder with LoRA adapters and a new head, and what the quality suite showed matters for LoRA. A task
/// (<see cref="TextClassification"/>, <see cref="TextRegression"/>) says what its label is and how it finishes.</summary>
internal abstract class TextFineTuning<TOptions, TTransformer>(HostEnvironment env, TOptions options, IChannel log)
    : FineTuningOutline<TOptions, TextRows, TextModel, TTransformer>(env, options, log)
    where TOptions : TextFineTuningOptions
{
    /// <summary>What the label column holds.</summary>
    protected abstract LabelKind Kind { get; }

    /// <summary>Checks the label column of the input; returns the class names (none for a regression).</summary>
    protected abstract string[] CheckLabel(DataViewSchema schema);

    /// <summary>Checks the training rows' labels: two classes present, or targets that vary (their scaling returned).</summary>
    protected abstract TargetScaling? CheckTrainingLabels(TextDataset train, string[] classNames);

    /// <summary>The head's outputs: one per class, or one value.</summary>
    protected abstract int HeadOutputs(TextRows rows);

    /// <summary>Sets the new head's starting weights, after the default initialisation drew them (nothing to change by default).</summary>
    protected virtual void InitializeHead(ClassifierHead head, TextRows rows) { }

    protected override TextRows Read(IDataView input, bool withValidation)
    {
        var o = Options;
        CheckTexts(input.Schema);
        var classNames = CheckLabel(input.Schema);
        var (trainView, validView) = withValidation ? ValidationSplit.Apply(Env.Data, o, input) : (input, (IDataView?)null);
        if (validView != null)
            validView = ValidationData.Align(Env.Data, validView, CheckTexts, o.LabelColumnName, Kind, classNames, m => Log.Warning(MessageSensitivity.None, m));

        var definition = PretrainedCatalog.GetTextEncoder(o.Encoder);
        var checkpoint = definition.CreatePretrained(o.EncoderPath);
        try
        {
            if (o.MaxSequenceLength > checkpoint.Config.MaxSequenceLength)
                throw new ArgumentOutOfRangeException(nameof(o.MaxSequenceLength), o.MaxSequenceLength,
                    $"MaxSequenceLength must be at most the encoder's {checkpoint.Config.MaxSequenceLength} positions (max_position_embeddings {checkpoint.Config.MaxPositionEmbeddings}).");
            // Checked before any training: the saved chain's BPE steps need it (ByteLevelBpeTokenizationPipeline.Build).
            if (o.SecondTextColumnName != null && checkpoint.TokenizerFiles.Kind == TextTokenizerKind.ByteLevelBpe && o.MaxSequenceLength % 2 != 0)
                throw new ArgumentOutOfRangeException(nameof(o.MaxSequenceLength), o.MaxSequenceLength,
                    $"MaxSequenceLength must be even for sentence pairs with a byte-level BPE (RoBERTa) encoder; got {o.MaxSequenceLength}. " +
                    "Hugging Face's fast tokenizer gives the odd token of an odd budget to the longer text, which the saved model's steps cannot know.");
            var tokenizer = checkpoint.TokenizerFiles.GetTokenizer();
            var train = TextDataset.Read(trainView, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, tokenizer, o.MaxSequenceLength, "training", o.CancellationToken, Kind);
            var scaling = CheckTrainingLabels(train, classNames);
            var valid = validView == null ? null
                : TextDataset.Read(validView, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, tokenizer, o.MaxSequenceLength, "validation", o.CancellationToken, Kind);
            Log.Info(MessageSensitivity.None, $"encoder {definition.Name} ({checkpoint.Config.NumHiddenLayers} layers, hidden {checkpoint.Config.HiddenSize}), " +
                $"training rows {train.Count}, validation rows {valid?.Count ?? 0}, " +
                (scaling is { } s ? $"target mean {s.Mean:G4}, spread {s.Spread:G4}" : $"classes {classNames.Length}") +
                $", mean tokens {train.Encodings.Average(e => e.Length):F1} (max {o.MaxSequenceLength})" + FullLength(train, o.MaxSequenceLength));
            return new TextRows(train, valid, classNames, definition, checkpoint.TokenizerFiles, checkpoint.Encoder) { Scaling = scaling };
        }
        catch
        {
            checkpoint.Encoder.Dispose();
            throw;
        }
    }

    /// <summary>The pretrained encoder, LoRA adapters (unless <c>FullFineTune</c>) and a new head.</summary>
    protected override ModelToTrain<TextModel> Build(TextRows rows, TOptions o, Device device)
    {
        var encoder = rows.NewEncoder(o.EncoderPath);
        TextClassifier? model = null;
        try
        {
            manual_seed(o.Seed);
            var head = new ClassifierHead(encoder.Config.HiddenSize, HeadOutputs(rows), o.HeadDropout);
            InitializeHead(head, rows);
            model = new TextClassifier(encoder, o.Pooling, head);
            var lora = o.FullFineTune ? null : LoraInjector.Apply(encoder, o.LoraConfig);
            var tunable = new TextFineTunable(model, lora);   // marks the adapters, and only them, trainable
            return new ModelToTrain<TextModel>(new TextModel(model, lora, lora?.TrainableParameterCount ?? 0), tunable,
                new TextBatchSource(rows.Train, o.BatchSize, train: true, o.Seed, rows.Tokenizer.PadId,
                    balanceClasses: o.SamplesClassesEvenly),
                rows.Valid == null ? null : new TextBatchSource(rows.Valid, o.BatchSize, train: false, o.Seed, rows.Tokenizer.PadId));
        }
        catch
        {
            if (model != null) model.Dispose(); else encoder.Dispose();
            throw;
        }
    }

    protected override IReadOnlyList<RecipeCandidate<TOptions>> Candidates(double? suggestedRate) => TextRecipeCandidates.For(Options, suggestedRate);

    /// <summary>Keeps the adapter and head in PEFT's layout (naming the base model it adapts), then merges the adapter into
    /// the base and removes it, so the encoder exports as plain BERT. Returns the adapter files (null with full fine-tuning).</summary>
    protected Dictionary<string, byte[]>? MergeAdapters(TextRows rows, TextModel trained, TOptions o)
    {
        var (model, lora) = (trained.Classifier, trained.Lora);
        var adapter = lora == null ? null : AdapterBytes(lora, model.Head, rows.Definition.BaseModelName ?? o.EncoderPath ?? rows.Definition.Name);
        if (lora != null)
        {
            lora.MergeAll();
            lora.Remove(merge: true);
        }
        return adapter;
    }

    /// <summary>The saved chain's tokenization steps for these rows' tokenizer and the options' columns.</summary>
    protected ScoringInput ScoringInput(TextRows rows, TOptions o) =>
        TextScoringPipeline.Input(Env.Data, o.TextColumnName, o.SecondTextColumnName, rows.Tokenizer, o.MaxSequenceLength);

    /// <summary>How many training texts fill the whole window: those are cut there (or exactly that long), which a user
    /// with long texts wants to know before choosing <c>MaxSequenceLength</c> (Hugging Face's tokenizer warns per text).</summary>
    private static string FullLength(TextDataset train, int maxLength)
    {
        int full = train.Encodings.Count(e => e.Length >= maxLength);
        return full == 0 ? "" : $"; {full} of {train.Count} texts ({100.0 * full / train.Count:F0} %) fill all {maxLength} tokens and are cut there " +
                                "(MaxSequenceLength reads more of them, at more time per step)";
    }

    private void CheckTexts(DataViewSchema schema) => TextColumns.CheckTexts(schema, Options.TextColumnName, Options.SecondTextColumnName);

    private static Dictionary<string, byte[]> AdapterBytes(LoraInjector lora, ClassifierHead head, string baseModel)
    {
        string tmp = Path.Combine(Path.GetTempPath(), "mlnet-finetuning-adapter-" + Guid.NewGuid().ToString("N"));
        try
        {
            var headTensors = new Dictionary<string, Tensor>
            {
                [LoraAdapterFiles.HeadModuleName + ".weight"] = head.Fc.weight!,
                [LoraAdapterFiles.HeadModuleName + ".bias"] = head.Fc.bias!,
            };
            LoraAdapterFiles.Save(tmp, lora, baseModel, headTensors);
            return Directory.GetFiles(tmp).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);
        }
        finally
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        }
    }
}
