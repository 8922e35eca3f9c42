using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>
/// LoRA fine-tuning of a pretrained BERT-family encoder (default: MiniLM-L6, shipped in a NuGet package) to predict a
/// number from a text (a rating, a price, a size, a score), in the same loop and with the same options as
/// <see cref="LoraTextClassifier"/>. The target is standardised for training and the exported graph answers in the
/// label's own unit. Evaluate with <c>mlContext.Regression.Evaluate</c>.
/// </summary>
/// <remarks>
/// <list type="table">
/// <listheader><term>Column</term><description>Type and meaning</description></listheader>
/// <item><term>input: <c>TextColumnName</c> (and <c>SecondTextColumnName</c>)</term><description>text</description></item>
/// <item><term>input: <c>LabelColumnName</c></term><description><c>Single</c> (float), finite, not the same on every row</description></item>
/// <item><term>output: <c>Score</c></term><description><c>Single</c>: the predicted value</description></item>
/// </list>
/// </remarks>
public sealed class LoraTextRegressor : FineTuningEstimator<LoraTextRegressor.Options, LoraTextRegressorTransformer>
{
    /// <summary>Options of <see cref="LoraTextRegressor"/>: the text options (<see cref="TextFineTuningOptions"/>) and the
    /// shared training options (<see cref="FineTuningOptions"/>); the label is a float. Early stopping watches the
    /// validation loss; label smoothing and class balancing do not apply.</summary>
    public sealed class Options : TextFineTuningOptions
    {
        /// <summary>Creates the options with the text defaults and the regression's early-stopping metric, the validation loss.</summary>
        public Options() => EarlyStoppingMetric = EarlyStoppingMetric.Loss;

        internal Options Clone() => (Options)MemberwiseClone();

        internal override void Validate()
        {
            base.Validate();
            ValidateRegression();
        }
    }

    /// <summary>Creates the estimator. The options are copied: later changes to the object have no effect.</summary>
    public LoraTextRegressor(MLContext mlContext, Options options)
        : this(HostEnvironment.From(Check.NotNull(mlContext, nameof(mlContext))), options) { }

    internal LoraTextRegressor(HostEnvironment env, Options options) : base(env, options) { }

    private protected override IFitOutline<LoraTextRegressorTransformer> Outline(IChannel log) => new TextRegression(Env, EstimatorOptions, log);

    /// <summary>The input schema plus <c>Score</c> (Single).</summary>
    public override SchemaShape GetOutputSchema(SchemaShape inputSchema)
    {
        TextColumns.CheckTexts(inputSchema, EstimatorOptions.TextColumnName, EstimatorOptions.SecondTextColumnName);
        return RegressionOutputSchema(inputSchema);
    }

    internal static JsonObject CheckpointMetadata(Options o, TargetScaling scaling) => scaling.AddTo(o.CheckpointFields(nameof(LoraTextRegressor)));
}
