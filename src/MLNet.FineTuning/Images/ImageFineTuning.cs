using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;
using Options = MLNet.FineTuning.FineTuneImageClassifier.Options;

namespace MLNet.FineTuning.Images;

/// <summary>The image rows, read once (decoded images cached while they fit), and the backbone every model built on them shares.</summary>
internal sealed record ImageRows(ImageDataset Train, ImageDataset? Valid, string[] ClassNames, ImageBackboneDefinition Definition) : IFineTuningRows
{
    public int[] TrainLabels => Train.Labels;
    public int ValidCount => Valid?.Count ?? 0;
}

/// <summary><see cref="FineTuneImageClassifier"/>'s hooks into the shared Fit outline: image columns, a pretrained
/// backbone with a new head, and what the quality suite showed matters for images in the automatic recipe.</summary>
internal sealed class ImageFineTuning(HostEnvironment env, Options options, IChannel log)
    : FineTuningOutline<Options, ImageRows, Classifier, FineTuneImageClassifierTransformer>(env, options, log)
{
    protected override ImageRows Read(IDataView input, bool withValidation)
    {
        var o = Options;
        ImageColumns.CheckImage(input.Schema, o.ImageColumnName);
        var classNames = LabelColumn.Read(input.Schema, o.LabelColumnName);
        var (trainView, validView) = withValidation ? ValidationSplit.Apply(Env.Data, o, input) : (input, (IDataView?)null);
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
        Log.Info(MessageSensitivity.None, $"training rows {train.Count} ({(train.Images != null ? "decoded images cached" : "streamed")}, {train.Skipped} unreadable skipped), " +
                                          $"validation rows {valid?.Count ?? 0}{(valid is { Skipped: > 0 } v ? $" ({v.Skipped} unreadable skipped)" : "")}, classes {classNames.Length}");
        return new ImageRows(train, valid, classNames, PretrainedCatalog.GetImageBackbone(o.Backbone));
    }

    protected override ModelToTrain<Classifier> Build(ImageRows rows, Options o)
    {
        manual_seed(o.Seed);
        var backbone = o.UsePretrainedWeights ? rows.Definition.CreatePretrained(o.WeightsPath) : rows.Definition.CreateRandom();
        var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, rows.ClassNames.Length, o.HeadDropout));
        return new ModelToTrain<Classifier>(model, new ImageFineTunable(model, rows.Definition.Preprocessing, o.FreezeBatchNormStatistics),
            new ImageBatchSource(Env.Data, rows.Train, o.ImageSize, o.BatchSize, train: true, o.Seed, o.TrainingAugmentation),
            rows.Valid == null ? null : new ImageBatchSource(Env.Data, rows.Valid, o.ImageSize, o.BatchSize, train: false, o.Seed, ImageAugmentationSettings.None));
    }

    /// <summary>The learning rate (the range test's suggestion or the options'), the backbone's share of it and the
    /// augmentation policy: what the quality suite showed matters for images.</summary>
    protected override IReadOnlyList<RecipeCandidate<Options>> Candidates(double suggestedRate)
    {
        var o = Options;
        var rates = new[] { o.LearningRate, RecipeCandidates.Rounded(suggestedRate) }.Distinct();
        var factors = new[] { o.BackboneLearningRateFactor, o.BackboneLearningRateFactor == 1 ? 0.3 : 1 };
        var policies = new[] { o.Augmentation, o.Augmentation == ImageAugmentationPolicy.None ? ImageAugmentationPolicy.Light : ImageAugmentationPolicy.None };
        return (from lr in rates from bb in factors from aug in policies
                select new RecipeCandidate<Options>($"lr={lr:G2}, bb={bb:G2}, aug={aug}", x =>
                {
                    x.LearningRate = lr;
                    x.BackboneLearningRateFactor = bb;
                    x.Augmentation = aug;
                })).ToList();
    }

    protected override Options Copy(Options o) => o.Clone();

    protected override JsonObject CheckpointMetadata(Options o, ImageRows rows) => FineTuneImageClassifier.CheckpointMetadata(o, rows.ClassNames);

    protected override BatchMixing Mixing(Options o) => new(o.MixupAlpha, o.CutMixAlpha);

    protected override FineTuneImageClassifierTransformer Finish(IDataView input, ImageRows rows, Classifier model, Options o, TrainingResult result)
    {
        model.to(CPU);
        model.eval();
        var onnx = ImageClassifierExporter.Export(model, rows.Definition.Preprocessing, o.ImageSize, rows.ClassNames);
        var scoring = ImageScoringPipeline.Build(Env.Data, input, o.ImageColumnName, o.ImageSize, onnx, rows.ClassNames,
            o.ScoreColumnName, o.PredictedLabelColumnName, Env.GpuDeviceId, Env.FallbackToCpu);
        return new FineTuneImageClassifierTransformer(scoring, onnx, model, rows.Definition, o.Clone(), rows.ClassNames, result, Env.GpuDeviceId, Env.FallbackToCpu);
    }
}
