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
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning;

/// <summary>
/// LoRA fine-tuning (Hu et al. 2021) of a pretrained BERT-family encoder (default: MiniLM-L6, shipped in a
/// NuGet package; no download) for text classification inside an ML.NET pipeline. The base encoder stays frozen;
/// low-rank adapters on the chosen linear layers and a new head train, in the training loop the image classifier
/// uses. <see cref="Fit"/> merges the adapters into the base, exports one ONNX graph and returns a
/// <see cref="LoraTextClassifierTransformer"/> that scores through ONNX Runtime and saves with <c>mlContext.Model.Save</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and meaning</description></listheader>
/// <item><term>input: <c>TextColumnName</c> (and <c>SecondTextColumnName</c>)</term><description>text</description></item>
/// <item><term>input: <c>LabelColumnName</c></term><description>key (from <c>MapValueToKey</c>), at least 2 classes</description></item>
/// <item><term>output: <c>Score</c></term><description>float vector of K class probabilities, in key order</description></item>
/// <item><term>output: <c>PredictedLabel</c></term><description>key with the training label's key values</description></item>
/// </list>
/// </remarks>
public sealed partial class LoraTextClassifier : IEstimator<LoraTextClassifierTransformer>
{
    private readonly HostEnvironment env;
    private readonly Options options;

    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public LoraTextClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal LoraTextClassifier(HostEnvironment env, Options options)
    {
        this.env = env;
        this.options = Check.NotNull(options, nameof(options)).Clone();
        this.options.Validate();
    }

    /// <summary>Trains on <paramref name="input"/> and returns the fitted transformer (with <c>TimeBudget</c> set, the
    /// best model of the automatic recipe).</summary>
    public LoraTextClassifierTransformer Fit(IDataView input)
    {
        using var ch = env.Log.Start(nameof(LoraTextClassifier));
        var data = ReadData(input, ch, withValidation: true);
        var (run, o, result) = options.TimeBudget is TimeSpan budget ? Search(input, data, ch, budget) : Train(data, options, ch);
        var (model, lora, head) = (run.Model, run.Lora, run.Model.Head);
        try
        {
            // The adapter is kept in PEFT's layout before it is merged away for the export.
            var adapter = lora == null ? null : AdapterBytes(lora, head, data.Definition.Name == PretrainedCatalog.MiniLmL6
                ? "sentence-transformers/all-MiniLM-L6-v2" : o.EncoderPath ?? data.Definition.Name);
            long adapterParameters = lora == null ? 0 : run.Tunable.BackboneParameters.Sum(p => p.Parameter.numel());
            if (lora != null)
            {
                lora.MergeAll();
                lora.Remove(merge: true);
            }
            var onnx = TextClassifierExporter.Export(model.Encoder, o.Pooling, head, data.ClassNames);
            var scoring = TextScoringPipeline.Build(env.Data, input, o.TextColumnName, o.SecondTextColumnName, data.Tokenizer.Vocabulary,
                data.LowerCase, o.MaxSequenceLength, onnx, data.ClassNames, o.ScoreColumnName, o.PredictedLabelColumnName,
                env.GpuDeviceId, env.FallbackToCpu);
            return new LoraTextClassifierTransformer(scoring, onnx, model, o.Clone(), data.ClassNames, result, data.Vocabulary,
                data.LowerCase, adapter, adapterParameters);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The learning-rate range test (Smith 2017; fastai's <c>lr_find</c>) on <paramref name="input"/>: a fresh model (the
    /// pretrained encoder with new adapters and head) takes <paramref name="steps"/> training steps, the rate growing
    /// exponentially from <paramref name="minLearningRate"/> to <paramref name="maxLearningRate"/>, and the loss of each is
    /// returned with the suggested rate. Nothing is kept: set <c>LearningRate</c> to
    /// <see cref="LearningRateRange.SuggestedLearningRate"/> and call <see cref="Fit"/>.
    /// </summary>
    /// <param name="input">Training data, as for <see cref="Fit"/> (validation options are ignored).</param>
    /// <param name="steps">Training steps, ≥ 5 (the data repeats when it has fewer batches). Default 100.</param>
    /// <param name="minLearningRate">First rate, &gt; 0. Default 1e-7.</param>
    /// <param name="maxLearningRate">Last rate, &gt; <paramref name="minLearningRate"/>. Default 1.</param>
    public LearningRateRange FindLearningRate(IDataView input, int steps = 100, double minLearningRate = 1e-7, double maxLearningRate = 1)
    {
        LearningRateRange.CheckArguments(steps, minLearningRate, maxLearningRate);
        using var ch = env.Log.Start(nameof(LoraTextClassifier));
        return RangeTest(ReadData(input, ch, withValidation: false), options, ch, steps, minLearningRate, maxLearningRate)!;
    }

    /// <summary>The tokenized rows, read once, and what every model built on them shares. The encoder loaded to get the
    /// vocabulary serves the first model; later ones load the pretrained weights again.</summary>
    private sealed class TextData(TextDataset train, TextDataset? valid, string[] classNames, TextEncoderDefinition definition,
                                  BertTextTokenizer tokenizer, byte[] vocabulary, bool lowerCase, BertEncoder firstEncoder)
    {
        private BertEncoder? unused = firstEncoder;
        public TextDataset Train => train;
        public TextDataset? Valid => valid;
        public string[] ClassNames => classNames;
        public TextEncoderDefinition Definition => definition;
        public BertTextTokenizer Tokenizer => tokenizer;
        public byte[] Vocabulary => vocabulary;
        public bool LowerCase => lowerCase;

        public BertEncoder NewEncoder(string? path)
        {
            var encoder = unused ?? definition.CreatePretrained(path).Encoder;
            unused = null;
            return encoder;
        }
    }

    /// <summary>A model ready to train (the caller disposes it and the class weights), its adapters, batch sources and loop.</summary>
    private sealed record TrainingRun(TextClassifier Model, LoraInjector? Lora, TextFineTunable Tunable, TextBatchSource Train,
                                   TextBatchSource? Valid, Tensor? ClassWeights, TrainingLoop Loop);

    private TextData ReadData(IDataView input, IChannel ch, bool withValidation)
    {
        Check.NotNull(input, nameof(input));
        var o = options;
        CheckText(input.Schema, o.TextColumnName);
        if (o.SecondTextColumnName != null) CheckText(input.Schema, o.SecondTextColumnName);
        var classNames = LabelColumn.Read(input.Schema, o.LabelColumnName);
        var (trainView, validView) = withValidation ? ValidationSplit.Apply(env.Data, o, input) : (input, (IDataView?)null);

        var definition = PretrainedCatalog.GetTextEncoder(o.Encoder);
        var checkpoint = definition.CreatePretrained(o.EncoderPath);
        try
        {
            if (o.MaxSequenceLength > checkpoint.Config.MaxPositionEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(o.MaxSequenceLength), o.MaxSequenceLength,
                    $"MaxSequenceLength must be at most the encoder's max_position_embeddings ({checkpoint.Config.MaxPositionEmbeddings}).");
            byte[] vocabulary;
            using (var stream = checkpoint.OpenVocabulary())
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                vocabulary = copy.ToArray();
            }
            var tokenizer = BertTextTokenizer.Create(new MemoryStream(vocabulary), checkpoint.LowerCase);
            var train = TextDataset.Read(trainView, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, tokenizer, o.MaxSequenceLength, "training", o.CancellationToken);
            LabelColumn.RequireTwoClassesPresent(train.Labels, classNames, o.LabelColumnName);
            var valid = validView == null ? null
                : TextDataset.Read(validView, o.TextColumnName, o.SecondTextColumnName, o.LabelColumnName, tokenizer, o.MaxSequenceLength, "validation", o.CancellationToken);
            ch.Info(MessageSensitivity.None, $"encoder {definition.Name} ({checkpoint.Config.NumHiddenLayers} layers, hidden {checkpoint.Config.HiddenSize}), " +
                $"training rows {train.Count}, validation rows {valid?.Count ?? 0}, classes {classNames.Length}, " +
                $"mean tokens {train.Encodings.Average(e => e.Length):F1} (max {o.MaxSequenceLength})");
            return new TextData(train, valid, classNames, definition, tokenizer, vocabulary, checkpoint.LowerCase, checkpoint.Encoder);
        }
        catch
        {
            checkpoint.Encoder.Dispose();
            throw;
        }
    }

    /// <summary>The pretrained encoder, LoRA adapters (unless <c>FullFineTune</c>) and a new head, seeded, with batch
    /// sources and loop for <paramref name="o"/>'s settings.</summary>
    private TrainingRun Build(TextData data, Options o, IChannel ch)
    {
        var encoder = data.NewEncoder(o.EncoderPath);
        TextClassifier? model = null;
        try
        {
            manual_seed(o.Seed);
            var head = new ClassifierHead(encoder.Config.HiddenSize, data.ClassNames.Length, o.HeadDropout);
            model = new TextClassifier(encoder, o.Pooling, head);
            var lora = o.FullFineTune ? null : LoraInjector.Apply(encoder, o.LoraConfig);
            var device = TrainingDevice.Select(env.GpuDeviceId, env.FallbackToCpu);
            return new TrainingRun(model, lora, new TextFineTunable(model, lora),
                new TextBatchSource(data.Train, o.BatchSize, train: true, o.Seed, data.Tokenizer.PadId),
                data.Valid == null ? null : new TextBatchSource(data.Valid, o.BatchSize, train: false, o.Seed, data.Tokenizer.PadId),
                o.BalanceClasses ? ClassWeights.For(data.Train.Labels, data.ClassNames.Length) : null,
                new TrainingLoop(o, device, ch, () => CheckpointMetadata(o, data.ClassNames)));
        }
        catch
        {
            if (model != null) model.Dispose(); else encoder.Dispose();
            throw;
        }
    }

    private (TrainingRun Run, Options Options, TrainingResult Result) Train(TextData data, Options o, IChannel ch)
    {
        using var generator = GlobalGenerator.Exclusive(ch);   // from seeding to the last step: one training at a time
        var run = Build(data, o, ch);
        try
        {
            using var weights = run.ClassWeights;
            return (run, o, run.Loop.Run(run.Tunable, run.Train, run.Valid, weights));
        }
        catch
        {
            run.Model.Dispose();
            throw;
        }
    }

    private LearningRateRange? RangeTest(TextData data, Options o, IChannel ch, int steps, double minRate, double maxRate, Func<int, int, bool>? keepGoing = null)
    {
        using var generator = GlobalGenerator.Exclusive(ch);   // from seeding to the last step: one training at a time
        var run = Build(data, o, ch);
        using var model = run.Model;
        using var weights = run.ClassWeights;
        return run.Loop.FindLearningRate(run.Tunable, run.Train, steps, minRate, maxRate, weights, keepGoing);
    }

    /// <summary>The automatic recipe (<see cref="FineTuningOptions.TimeBudget"/>) over what the quality suite showed
    /// matters for LoRA: the learning rate (the range test's suggestion or the options') and which layers get adapters.
    /// The options as given come first, so ties keep them. When the search held out its own validation rows, the kept
    /// recipe trains again on all of <paramref name="input"/>.</summary>
    private (TrainingRun Run, Options Options, TrainingResult Result) Search(IDataView input, TextData data, IChannel ch, TimeSpan budget)
    {
        var o = options;
        (TrainedText, TrainingResult) TrainOn(TextData d, Options x)
        {
            var (run, _, result) = Train(d, x, ch);
            return (new TrainedText(run), result);
        }
        var finalRun = !ValidationSplit.HoldsOutAutomatically(o) ? null : new FinalRunOnAllRows<Options, TrainedText>(
            x => TrainOn(ReadData(input, ch, withValidation: false), x), (double)(data.Train.Count + (data.Valid?.Count ?? 0)) / data.Train.Count);
        var search = new RecipeSearch<Options, TrainedText>(o, x => x.Clone(), x => TrainOn(data, x), finalRun, ch);
        var (kept, chosen, result, _) = search.Run((x, keepGoing) => RangeTest(data, x, ch, RecipeCandidates.RangeTestSteps(data.Train.Count, x.BatchSize), 1e-7, 1, keepGoing), suggested =>
        {
            var rates = new[] { o.LearningRate, RecipeCandidates.Rounded(suggested) }.Distinct();
            var targets = new[] { o.TargetModules, o.TargetModules.SequenceEqual(LoraTargetModules.AllLinear) ? LoraTargetModules.Bert : LoraTargetModules.AllLinear };
            return (from lr in rates from t in targets
                    select new RecipeCandidate<Options>($"lr={lr:G2}, targets={string.Join("+", t)}", x =>
                    {
                        x.LearningRate = lr;
                        x.TargetModules = t;
                    })).ToList();
        }, (data.Train.Count + o.BatchSize - 1) / o.BatchSize, budget);
        return (kept.Run, chosen, result);
    }

    /// <summary>A trained text model as the search holds it (disposing it frees the weights).</summary>
    private sealed record TrainedText(TrainingRun Run) : IDisposable
    {
        public void Dispose() => Run.Model.Dispose();
    }

    /// <summary>The input schema plus <c>Score</c> (float vector) and <c>PredictedLabel</c> (key with the label's values).</summary>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = options;
        if (inputSchema.FirstOrDefault(c => c.Name == o.TextColumnName).Name == null)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Text column '{o.TextColumnName}' not found.");
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || !label.IsKey)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not a key type.");
        // ML.NET's schema-shape constructors are internal: describe a float vector (FeaturizeText gives one from
        // a text column) and a copy of the label key with public estimators of the same output kinds.
        var t = env.Data.Transforms;
        return t.Text.FeaturizeText(o.ScoreColumnName, o.TextColumnName)
            .Append(t.CopyColumns(o.PredictedLabelColumnName, o.LabelColumnName))
            .GetOutputSchema(inputSchema);
    }

    private static void CheckText(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Text column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}.");
        if (col.Type is not TextDataViewType)
            throw new ArgumentException($"Text column '{column}' has type {col.Type}; expected text (string).");
    }

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

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> classNames) => new()
    {
        ["kind"] = nameof(LoraTextClassifier),
        ["encoder"] = o.Encoder,
        ["encoderPath"] = o.EncoderPath,
        ["maxSequenceLength"] = o.MaxSequenceLength,
        ["pooling"] = o.Pooling.ToString(),
        ["fullFineTune"] = o.FullFineTune,
        ["rank"] = o.Rank,
        ["alpha"] = o.Alpha,
        ["targetModules"] = new JsonArray(o.TargetModules.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
        ["classNames"] = new JsonArray(classNames.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
    };
}
