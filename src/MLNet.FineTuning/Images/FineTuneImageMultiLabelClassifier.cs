using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// Fine-tunes a pretrained CNN (default: ML.NET's own ImageNet ResNet-18) to say which of K labels an image has, any number
/// of them at once (a photo's objects, a glyph's styles, a product's attributes), in the same training loop and with the
/// same backbones and options as <see cref="FineTuneImageClassifier"/>: K independent sigmoid outputs trained with binary
/// cross-entropy, each predicted at probability ½ (or at a threshold per label chosen on the validation rows, <c>ChooseThresholds</c>). Evaluate with
/// <c>mlContext.MultiLabelClassification().Evaluate</c>: ML.NET has no multi-label evaluator.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and meaning</description></listheader>
/// <item><term>input: <c>ImageColumnName</c></term><description>image (<c>MLImage</c>) or encoded image bytes (<c>VBuffer&lt;byte&gt;</c>)</description></item>
/// <item><term>input: <c>LabelColumnName</c></term><description>vector of K ≥ 2 <c>Boolean</c> or <c>Single</c> 0/1 flags, of known size;
/// its slot names, when it has them, name the labels</description></item>
/// <item><term>output: <c>Score</c></term><description>float vector of K probabilities, each label's own (they do not sum to 1)</description></item>
/// <item><term>output: <c>PredictedLabel</c></term><description>Boolean vector of K: each probability against its label's threshold</description></item>
/// </list>
/// </remarks>
public sealed class FineTuneImageMultiLabelClassifier : FineTuningEstimator<FineTuneImageMultiLabelClassifier.Options, FineTuneImageMultiLabelClassifierTransformer>
{
    /// <summary>Options of <see cref="FineTuneImageMultiLabelClassifier"/>: the image options (<see cref="ImageFineTuningOptions"/>),
    /// the shared training options (<see cref="FineTuningOptions"/>) and the thresholds. Early stopping watches the
    /// validation loss; class balancing does not apply; label smoothing pulls each flag toward ½.</summary>
    public sealed class Options : ImageFineTuningOptions, ILabelSetSettings
    {
        /// <summary>Creates the options with the multi-label early-stopping metric, the validation loss.</summary>
        public Options() => EarlyStoppingMetric = EarlyStoppingMetric.Loss;

        /// <inheritdoc/>
        public double Threshold { get; set; } = 0.5;

        /// <inheritdoc/>
        public bool ChooseThresholds { get; set; }

        internal Options Clone() => (Options)MemberwiseClone();

        internal override void Validate()
        {
            base.Validate();
            ValidateLabelSet(Threshold);
        }
    }

    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public FineTuneImageMultiLabelClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal FineTuneImageMultiLabelClassifier(HostEnvironment env, Options options) : base(env, options) { }

    private protected override IFitOutline<FineTuneImageMultiLabelClassifierTransformer> Outline(IChannel log) => new ImageLabelSet(Env, EstimatorOptions, log);

    /// <summary>The input schema plus <c>Score</c> (float vector of K) and <c>PredictedLabel</c> (Boolean vector of K).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        ImageColumns.CheckImage(inputSchema, EstimatorOptions.ImageColumnName);
        return LabelSetOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> labelNames) =>
        WithClassNames(o.CheckpointFields(nameof(FineTuneImageMultiLabelClassifier)), labelNames);
}
