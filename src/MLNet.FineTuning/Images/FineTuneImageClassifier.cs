using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// Fine-tunes a pretrained CNN (default: ML.NET's own ImageNet ResNet-18, no download) on the images of an
/// ML.NET pipeline, with TorchSharp doing the gradient work (on the GPU when <c>MLContext.GpuDeviceId</c>
/// is set). <c>Fit</c> returns a <see cref="FineTuneImageClassifierTransformer"/> that scores through
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
public sealed partial class FineTuneImageClassifier : FineTuningEstimator<FineTuneImageClassifier.Options, FineTuneImageClassifierTransformer>
{
    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public FineTuneImageClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal FineTuneImageClassifier(HostEnvironment env, Options options) : base(env, options) { }

    private protected override IFitOutline<FineTuneImageClassifierTransformer> Outline(IChannel log) => new ImageClassification(Env, EstimatorOptions, log);

    /// <summary>The input schema plus <c>Score</c> (float vector) and <c>PredictedLabel</c> (key with the label's values).</summary>
    /// <remarks>ML.NET's schema-shape constructors are internal, so the two columns are described by public
    /// estimators with the same output kinds: a float vector of the label's class count (the key as an indicator
    /// vector), and a copy of the label key (which carries its key values, as PredictedLabel will).</remarks>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = EstimatorOptions;
        ImageColumns.CheckImage(inputSchema, o.ImageColumnName);
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || !label.IsKey)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not a key type.");
        var transforms = Env.Data.Transforms;
        return transforms.Conversion.MapKeyToVector(o.ScoreColumnName, o.LabelColumnName)
            .Append(transforms.CopyColumns(o.PredictedLabelColumnName, o.LabelColumnName))
            .GetOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> classNames)
        => WithClassNames(o.CheckpointFields(nameof(FineTuneImageClassifier)), classNames);
}
