using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// LoRA fine-tuning (Hu et al. 2021) of a pretrained BERT-family encoder (default: MiniLM-L6, shipped in a
/// NuGet package; no download) for text classification inside an ML.NET pipeline. The base encoder stays frozen;
/// low-rank adapters on the chosen linear layers and a new head train, in the training loop the image classifier
/// uses. <c>Fit</c> merges the adapters into the base, exports one ONNX graph and returns a
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
public sealed partial class LoraTextClassifier : FineTuningEstimator<LoraTextClassifier.Options, LoraTextClassifierTransformer>
{
    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public LoraTextClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal LoraTextClassifier(HostEnvironment env, Options options) : base(env, options) { }

    private protected override IFitOutline<LoraTextClassifierTransformer> Outline(IChannel log) => new TextClassification(Env, EstimatorOptions, log);

    /// <summary>The input schema plus <c>Score</c> (float vector) and <c>PredictedLabel</c> (key with the label's values).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        var o = EstimatorOptions;
        TextColumns.CheckTexts(inputSchema, o.TextColumnName, o.SecondTextColumnName);
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || !label.IsKey)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not a key type.");
        // ML.NET's schema-shape constructors are internal: describe a float vector (FeaturizeText gives one from
        // a text column) and a copy of the label key with public estimators of the same output kinds.
        var t = Env.Data.Transforms;
        return t.Text.FeaturizeText(o.ScoreColumnName, o.TextColumnName)
            .Append(t.CopyColumns(o.PredictedLabelColumnName, o.LabelColumnName))
            .GetOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> classNames)
        => WithClassNames(o.CheckpointFields(nameof(LoraTextClassifier)), classNames);
}
