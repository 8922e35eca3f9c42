using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Images;

/// <summary>The image rows, read once (decoded images cached while they fit), and what every model built on them shares:
/// the backbone, and the class names (classification) or the targets' scaling (regression).</summary>
internal sealed record ImageRows(ImageDataset Train, ImageDataset? Valid, string[] ClassNames, ImageBackboneDefinition Definition,
                                 TargetScaling? Scaling = null) : IFineTuningRows
{
    public int TrainCount => Train.Count;
    public int ValidCount => Valid?.Count ?? 0;
    public int[] TrainClasses => Train.ClassIndices;
}

/// <summary>The image modality's hooks into the shared Fit outline, for every image task: image columns, a pretrained
/// backbone with a new head, and what the quality suite showed matters for images in the automatic recipe. A task
/// (<see cref="ImageClassification"/>, <see cref="ImageRegression"/>) says what its label is and how it finishes.</summary>
internal abstract class ImageFineTuning<TOptions, TTransformer>(HostEnvironment env, TOptions options, IChannel log)
    : FineTuningOutline<TOptions, ImageRows, Classifier, TTransformer>(env, options, log)
    where TOptions : ImageFineTuningOptions
{
    /// <summary>What the label column holds.</summary>
    protected abstract LabelKind Kind { get; }

    /// <summary>Checks the label column of the input (and of given validation data); returns the class names (none for a regression).</summary>
    protected abstract string[] CheckLabel(DataViewSchema schema);

    /// <summary>The rows read: classification checks two classes are present; regression measures the targets' scaling.</summary>
    protected abstract ImageRows Rows(ImageDataset train, ImageDataset? valid, string[] classNames, ImageBackboneDefinition definition);

    /// <summary>The head's outputs: one per class, or one value.</summary>
    protected abstract int HeadOutputs(ImageRows rows);

    /// <summary>Sets the new head's starting weights, after the default initialisation drew them (nothing to change by default).</summary>
    protected virtual void InitializeHead(ClassifierHead head, ImageRows rows) { }

    protected override ImageRows Read(IDataView input, bool withValidation)
    {
        var o = Options;
        ImageColumns.CheckImage(input.Schema, o.ImageColumnName);
        var classNames = CheckLabel(input.Schema);
        var (trainView, validView) = withValidation ? ValidationSplit.Apply(Env.Data, o, input) : (input, (IDataView?)null);
        if (validView != null)
            validView = ValidationData.Align(Env.Data, validView, s => ImageColumns.CheckImage(s, o.ImageColumnName), o.LabelColumnName, Kind, classNames,
                m => Log.Warning(MessageSensitivity.None, m));
        long budget = (long)o.ImageCacheMegabytes << 20;
        var train = ImageDataset.Read(trainView, o.ImageColumnName, o.LabelColumnName, budget, o.SkipUnreadableImages, "training", o.CancellationToken, Kind);
        var valid = validView == null ? null
            : ImageDataset.Read(validView, o.ImageColumnName, o.LabelColumnName, budget, o.SkipUnreadableImages, "validation", o.CancellationToken, Kind);
        var rows = Rows(train, valid, classNames, PretrainedCatalog.GetImageBackbone(o.Backbone));
        Log.Info(MessageSensitivity.None, $"training rows {train.Count} ({(train.Images != null ? "decoded images cached" : "streamed")}, {train.Skipped} unreadable skipped), " +
                                          $"validation rows {valid?.Count ?? 0}{(valid is { Skipped: > 0 } v ? $" ({v.Skipped} unreadable skipped)" : "")}, " +
                                          (rows.Scaling is { } s ? $"target mean {s.Mean:G4}, spread {s.Spread:G4}" : $"classes {classNames.Length}") +
                                          Enlarged(train.MedianShortSide, o.ImageSize));
        return rows;
    }

    /// <summary>Whether <c>ImageSize</c> blows the typical image up three-fold or more: each step then costs as for that size,
    /// while beyond about twice the images' size the measured gain stopped (README, "Choices the tool makes"), which a CPU
    /// user with small images (the default 224 px is for a GPU) wants to weigh.</summary>
    private static string Enlarged(int medianShortSide, int imageSize) =>
        imageSize < 3 * medianShortSide ? ""
        : $"; the images' median shorter side is {medianShortSide} px, which ImageSize {imageSize} enlarges {(double)imageSize / medianShortSide:F1}×: " +
          $"each step costs as for {imageSize}-px images (28-px Fashion-MNIST, 1,000 rows, seeds 1-3: 85.2 % at 32 px, 87.3 % at 64 px " +
          "in 1.6× the time, 87.3 % at 96 px in 2.7×)";

    protected override ModelToTrain<Classifier> Build(ImageRows rows, TOptions o, Device device)
    {
        manual_seed(o.Seed);
        var backbone = o.UsePretrainedWeights ? rows.Definition.CreatePretrained(o.WeightsPath, o.ImageSize) : rows.Definition.CreateRandom(o.ImageSize);
        var head = new ClassifierHead(backbone.FeatureCount, HeadOutputs(rows), o.HeadDropout);
        InitializeHead(head, rows);
        var model = new Classifier(backbone, head);
        bool channelsLast = o.UsesChannelsLast(device);
        if (channelsLast)
        {
            ChannelsLast.Apply(model);   // before the optimizer is made: it keeps each kernel's strides
            Log.Info(MessageSensitivity.None, $"channels-last layout for the kernels and batches on {device}");
        }
        else if (o.ChannelsLast) Log.Info(MessageSensitivity.None, "ChannelsLast applies on a CUDA device only: training on the CPU stays contiguous");
        // Pixels that every epoch sees alike are kept on the device, within the same budget as the decoded images.
        var keep = new PixelKeeping(device, (long)o.ImageCacheMegabytes << 20, Log);
        return new ModelToTrain<Classifier>(model, new ImageFineTunable(model, rows.Definition.Preprocessing, o.FreezeBatchNormStatistics, channelsLast),
            new ImageBatchSource(rows.Train, o.ImageSize, o.BatchSize, train: true, o.Seed, o.TrainingAugmentation, keep,
                balanceClasses: o.SamplesClassesEvenly),
            rows.Valid == null ? null : new ImageBatchSource(rows.Valid, o.ImageSize, o.BatchSize, train: false, o.Seed, ImageAugmentationSettings.None, keep));
    }

    protected override IReadOnlyList<RecipeCandidate<TOptions>> Candidates(double? suggestedRate) => ImageRecipeCandidates.For(Options, suggestedRate);

    protected override BatchMixing Mixing(TOptions o) => new(o.MixupAlpha, o.CutMixAlpha);

    /// <summary>The trained network on the CPU in inference mode, ready to export.</summary>
    protected static void PrepareForExport(Classifier model)
    {
        model.to(CPU);
        ChannelsLast.Undo(model);   // the fitted model is contiguous whatever layout trained it
        model.eval();
    }
}
