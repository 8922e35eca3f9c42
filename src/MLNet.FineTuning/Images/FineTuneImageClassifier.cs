using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using TorchSharp;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning;

/// <summary>
/// Fine-tunes a pretrained CNN (default: ML.NET's own ImageNet ResNet-18, no download) on the images of an
/// ML.NET pipeline, with TorchSharp doing the gradient work (on the GPU when <c>MLContext.GpuDeviceId</c>
/// is set). <see cref="Fit"/> returns a <see cref="FineTuneImageClassifierTransformer"/> that scores through
/// ONNX Runtime and saves with <c>mlContext.Model.Save</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and meaning</description></listheader>
/// <item><term>input: <c>ImageColumnName</c></term><description>image (<c>MLImage</c>, from <c>LoadImages</c>) or encoded image bytes
/// (<c>VBuffer&lt;byte&gt;</c>, from <c>LoadRawImageBytes</c>; decoded by this library); any size</description></item>
/// <item><term>input: <c>LabelColumnName</c></term><description>key (from <c>MapValueToKey</c>), at least 2 classes</description></item>
/// <item><term>output: <c>Score</c></term><description>float vector of K class probabilities (softmax), in key order</description></item>
/// <item><term>output: <c>PredictedLabel</c></term><description>key with the training label's key values</description></item>
/// </list>
/// </remarks>
public sealed partial class FineTuneImageClassifier : IEstimator<FineTuneImageClassifierTransformer>
{
    private readonly HostEnvironment env;
    private readonly Options options;

    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public FineTuneImageClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal FineTuneImageClassifier(HostEnvironment env, Options options)
    {
        this.env = env;
        this.options = Check.NotNull(options, nameof(options)).Clone();
        this.options.Validate();
    }

    /// <summary>Trains on <paramref name="input"/> and returns the fitted transformer (with <c>TimeBudget</c> set, the
    /// best model of the automatic recipe).</summary>
    public FineTuneImageClassifierTransformer Fit(IDataView input)
    {
        using var ch = env.Log.Start(nameof(FineTuneImageClassifier));
        var data = ReadData(input, ch, withValidation: true);
        var (model, o, result) = options.TimeBudget is TimeSpan budget ? Search(input, data, ch, budget) : Train(data, options, ch);
        try
        {
            model.to(CPU);
            model.eval();
            var onnx = ImageClassifierExporter.Export(model, data.Definition.Preprocessing, o.ImageSize, data.ClassNames);
            var scoring = ImageScoringPipeline.Build(env.Data, input, o.ImageColumnName, o.ImageSize, onnx, data.ClassNames,
                o.ScoreColumnName, o.PredictedLabelColumnName, env.GpuDeviceId, env.FallbackToCpu);
            return new FineTuneImageClassifierTransformer(scoring, onnx, model, data.Definition, o.Clone(), data.ClassNames, result, env.GpuDeviceId, env.FallbackToCpu);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The learning-rate range test (Smith 2017; fastai's <c>lr_find</c>) on <paramref name="input"/>: a fresh model with
    /// the pretrained weights takes <paramref name="steps"/> training steps, its head's rate growing exponentially from
    /// <paramref name="minLearningRate"/> to <paramref name="maxLearningRate"/> (the backbone keeps
    /// <c>BackboneLearningRateFactor</c>), and the loss of each is returned with the suggested rate. Nothing is kept:
    /// set <c>LearningRate</c> to <see cref="LearningRateRange.SuggestedLearningRate"/> and call <see cref="Fit"/>.
    /// </summary>
    /// <param name="input">Training data, as for <see cref="Fit"/> (validation options are ignored).</param>
    /// <param name="steps">Training steps, ≥ 5 (the data repeats when it has fewer batches). Default 100.</param>
    /// <param name="minLearningRate">First rate, &gt; 0. Default 1e-7.</param>
    /// <param name="maxLearningRate">Last rate, &gt; <paramref name="minLearningRate"/>. Default 1.</param>
    public LearningRateRange FindLearningRate(IDataView input, int steps = 100, double minLearningRate = 1e-7, double maxLearningRate = 1)
    {
        LearningRateRange.CheckArguments(steps, minLearningRate, maxLearningRate);
        using var ch = env.Log.Start(nameof(FineTuneImageClassifier));
        return RangeTest(ReadData(input, ch, withValidation: false), options, ch, steps, minLearningRate, maxLearningRate)!;
    }

    /// <summary>The rows, read once (decoded images cached while they fit), and what every model built on them shares.</summary>
    private sealed record ImageData(ImageDataset Train, ImageDataset? Valid, string[] ClassNames, ImageBackboneDefinition Definition);

    /// <summary>A model ready to train (the caller disposes it), its batch sources and the loop.</summary>
    private sealed record TrainingRun(Classifier Model, ImageFineTunable Tunable, ImageBatchSource Train, ImageBatchSource? Valid,
                                      Tensor? ClassWeights, TrainingLoop Loop);

    private ImageData ReadData(IDataView input, IChannel ch, bool withValidation)
    {
        Check.NotNull(input, nameof(input));
        var o = options;
        ImageColumns.CheckImage(input.Schema, o.ImageColumnName);
        var classNames = LabelColumn.Read(input.Schema, o.LabelColumnName);
        var (trainView, validView) = withValidation ? ValidationSplit.Apply(env.Data, o, input) : (input, (IDataView?)null);
        if (validView != null)
        {
            ImageColumns.CheckImage(validView.Schema, o.ImageColumnName);
            LabelColumn.CheckKey(validView.Schema, o.LabelColumnName);
        }
        long budget = (long)o.ImageCacheMegabytes << 20;
        var train = ImageDataset.Read(trainView, o.ImageColumnName, o.LabelColumnName, budget, o.SkipUnreadableImages, "training", o.CancellationToken);
        LabelColumn.RequireTwoClassesPresent(train.Labels, classNames, o.LabelColumnName);
        var valid = validView == null ? null
            : ImageDataset.Read(validView, o.ImageColumnName, o.LabelColumnName, budget, o.SkipUnreadableImages, "validation", o.CancellationToken);
        ch.Info(MessageSensitivity.None, $"training rows {train.Count} ({(train.Images != null ? "decoded images cached" : "streamed")}, {train.Skipped} unreadable skipped), " +
                                          $"validation rows {valid?.Count ?? 0}{(valid is { Skipped: > 0 } v ? $" ({v.Skipped} unreadable skipped)" : "")}, classes {classNames.Length}");
        return new ImageData(train, valid, classNames, PretrainedCatalog.GetImageBackbone(o.Backbone));
    }

    /// <summary>The pretrained backbone and a new head, seeded, with batch sources for <paramref name="o"/>'s settings.</summary>
    private TrainingRun Build(ImageData data, Options o, IChannel ch)
    {
        var device = TrainingDevice.Select(env.GpuDeviceId, env.FallbackToCpu);
        manual_seed(o.Seed);
        var backbone = o.UsePretrainedWeights ? data.Definition.CreatePretrained(o.WeightsPath) : data.Definition.CreateRandom();
        var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, data.ClassNames.Length, o.HeadDropout));
        return new TrainingRun(model, new ImageFineTunable(model, data.Definition.Preprocessing, o.FreezeBatchNormStatistics),
            new ImageBatchSource(env.Data, data.Train, o.ImageSize, o.BatchSize, train: true, o.Seed, o.TrainingAugmentation),
            data.Valid == null ? null : new ImageBatchSource(env.Data, data.Valid, o.ImageSize, o.BatchSize, train: false, o.Seed, ImageAugmentationSettings.None),
            o.BalanceClasses ? ClassWeights.For(data.Train.Labels, data.ClassNames.Length) : null,
            new TrainingLoop(o, device, ch, () => CheckpointMetadata(o, data.ClassNames), new BatchMixing(o.MixupAlpha, o.CutMixAlpha)));
    }

    private (Classifier Model, Options Options, TrainingResult Result) Train(ImageData data, Options o, IChannel ch)
    {
        using var generator = GlobalGenerator.Exclusive(ch);   // from seeding to the last step: one training at a time
        var run = Build(data, o, ch);
        try
        {
            using var weights = run.ClassWeights;
            return (run.Model, o, run.Loop.Run(run.Tunable, run.Train, run.Valid, weights));
        }
        catch
        {
            run.Model.Dispose();
            throw;
        }
    }

    private LearningRateRange? RangeTest(ImageData data, Options o, IChannel ch, int steps, double minRate, double maxRate, Func<int, int, bool>? keepGoing = null)
    {
        using var generator = GlobalGenerator.Exclusive(ch);   // from seeding to the last step: one training at a time
        var run = Build(data, o, ch);
        using var model = run.Model;
        using var weights = run.ClassWeights;
        return run.Loop.FindLearningRate(run.Tunable, run.Train, steps, minRate, maxRate, weights, keepGoing);
    }

    /// <summary>The automatic recipe (<see cref="FineTuningOptions.TimeBudget"/>) over what the quality suite showed
    /// matters for images: the learning rate (the range test's suggestion or the options'), the backbone's share of it
    /// and the augmentation policy. The options as given come first, so ties keep them. When the search held out its own
    /// validation rows, the kept recipe trains again on all of <paramref name="input"/> (read again: the search's cache
    /// holds the split).</summary>
    private (Classifier Model, Options Options, TrainingResult Result) Search(IDataView input, ImageData data, IChannel ch, TimeSpan budget)
    {
        var o = options;
        var finalRun = !ValidationSplit.HoldsOutAutomatically(o) ? null : new FinalRunOnAllRows<Options, Classifier>(x =>
        {
            var (m, _, r) = Train(ReadData(input, ch, withValidation: false), x, ch);
            return (m, r);
        }, (double)(data.Train.Count + (data.Valid?.Count ?? 0)) / data.Train.Count);
        var search = new RecipeSearch<Options, Classifier>(o, x => x.Clone(), x => { var (m, _, r) = Train(data, x, ch); return (m, r); }, finalRun, ch);
        var (model, chosen, result, _) = search.Run((x, keepGoing) => RangeTest(data, x, ch, RecipeCandidates.RangeTestSteps(data.Train.Count, x.BatchSize), 1e-7, 1, keepGoing), suggested =>
        {
            var rates = new[] { o.LearningRate, RecipeCandidates.Rounded(suggested) }.Distinct();
            var factors = new[] { o.BackboneLearningRateFactor, o.BackboneLearningRateFactor == 1 ? 0.3 : 1 };
            var policies = new[] { o.Augmentation, o.Augmentation == ImageAugmentationPolicy.None ? ImageAugmentationPolicy.Light : ImageAugmentationPolicy.None };
            return (from lr in rates from bb in factors from aug in policies
                    select new RecipeCandidate<Options>($"lr={lr:G2}, bb={bb:G2}, aug={aug}", x =>
                    {
                        x.LearningRate = lr;
                        x.BackboneLearningRateFactor = bb;
                        x.Augmentation = aug;
                    })).ToList();
        }, (data.Train.Count + o.BatchSize - 1) / o.BatchSize, budget);
        return (model, chosen, result);
    }

    /// <summary>The input schema plus <c>Score</c> (float vector) and <c>PredictedLabel</c> (key with the label's values).</summary>
    /// <remarks>ML.NET's schema-shape constructors are internal, so the two columns are described by public
    /// estimators with the same output kinds: a float vector of the label's class count (the key as an indicator
    /// vector), and a copy of the label key (which carries its key values, as PredictedLabel will).</remarks>
    public SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = options;
        ImageColumns.CheckImage(inputSchema, o.ImageColumnName);
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || !label.IsKey)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not a key type.");
        var transforms = env.Data.Transforms;
        return transforms.Conversion.MapKeyToVector(o.ScoreColumnName, o.LabelColumnName)
            .Append(transforms.CopyColumns(o.PredictedLabelColumnName, o.LabelColumnName))
            .GetOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> classNames) => new()
    {
        ["kind"] = "FineTuneImageClassifier",
        ["backbone"] = o.Backbone,
        ["imageSize"] = o.ImageSize,
        ["headDropout"] = o.HeadDropout,
        ["classNames"] = new JsonArray(classNames.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
    };
}
