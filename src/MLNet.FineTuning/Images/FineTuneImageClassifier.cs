using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Training;

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
        return new ImageClassification(env, options, ch).Fit(input);
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
        using var ch = env.Log.Start(nameof(FineTuneImageClassifier));
        return new ImageClassification(env, options, ch).FindLearningRate(input, steps, minLearningRate, maxLearningRate);
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
