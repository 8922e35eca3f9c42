using Microsoft.ML;
using Microsoft.ML.Runtime;

namespace MLNet.FineTuning.Training;

/// <summary>What a task's Fit outline offers the estimator that owns it (<see cref="FineTuningOutline{TOptions, TRows, TModel, TTransformer}"/>).</summary>
internal interface IFitOutline<out TTransformer>
{
    TTransformer Fit(IDataView input);
    LearningRateRange FindLearningRate(IDataView input, int steps, double minRate, double maxRate);
}

/// <summary>
/// What every fine-tuning estimator of this library shares: its options copied and checked once, <c>Fit</c> and
/// <see cref="FindLearningRate"/> through the shared Fit outline, with the caller's ML.NET context and log. An estimator
/// adds its options, its output schema and which task outline it runs: one class per task and modality, nothing else.
/// </summary>
/// <typeparam name="TOptions">The estimator's options.</typeparam>
/// <typeparam name="TTransformer">The fitted transformer.</typeparam>
public abstract class FineTuningEstimator<TOptions, TTransformer> : IEstimator<TTransformer>
    where TOptions : FineTuningOptions
    where TTransformer : ITransformer
{
    private protected FineTuningEstimator(HostEnvironment env, TOptions options)
    {
        Env = env;
        EstimatorOptions = (TOptions)Check.NotNull(options, nameof(options)).Copy();
        EstimatorOptions.Validate();
    }

    private protected HostEnvironment Env { get; }

    /// <summary>The options, copied when the estimator was made: later changes to the caller's object have no effect.</summary>
    private protected TOptions EstimatorOptions { get; }

    /// <summary>The task's outline over the options, logging to <paramref name="log"/>.</summary>
    private protected abstract IFitOutline<TTransformer> Outline(IChannel log);

    /// <summary>Trains on <paramref name="input"/> and returns the fitted transformer (with <c>TimeBudget</c> set, the
    /// best model of the automatic recipe).</summary>
    public TTransformer Fit(IDataView input)
    {
        using var ch = Env.Log.Start(GetType().Name);
        return Outline(ch).Fit(input);
    }

    /// <summary>
    /// The learning-rate range test (Smith 2017; fastai's <c>lr_find</c>) on <paramref name="input"/>: a fresh model (the
    /// pretrained network with a new head, and adapters where the estimator trains them) takes <paramref name="steps"/>
    /// training steps, the head's rate growing exponentially from <paramref name="minLearningRate"/> to
    /// <paramref name="maxLearningRate"/> (the backbone keeps <c>BackboneLearningRateFactor</c>), and the loss of each is
    /// returned with the suggested rate. Nothing is kept: set <c>LearningRate</c> to
    /// <see cref="LearningRateRange.SuggestedLearningRate"/> and call <c>Fit</c>.
    /// </summary>
    /// <param name="input">Training data, as for <c>Fit</c> (validation options are ignored).</param>
    /// <param name="steps">Training steps, ≥ 5 (the data repeats when it has fewer batches). Default 100.</param>
    /// <param name="minLearningRate">First rate, &gt; 0. Default 1e-7.</param>
    /// <param name="maxLearningRate">Last rate, &gt; <paramref name="minLearningRate"/>. Default 1.</param>
    public LearningRateRange FindLearningRate(IDataView input, int steps = 100, double minLearningRate = 1e-7, double maxLearningRate = 1)
    {
        using var ch = Env.Log.Start(GetType().Name);
        return Outline(ch).FindLearningRate(input, steps, minLearningRate, maxLearningRate);
    }

    /// <inheritdoc/>
    public abstract SchemaShape GetOutputSchema(SchemaShape inputSchema);

    /// <summary>A regressor's output schema: the input's plus <c>Score</c> (Single), once the float label is there.</summary>
    /// <remarks>ML.NET's schema-shape constructors are internal: a copy of the float label describes a Single column.</remarks>
    private protected SchemaShape RegressionOutputSchema(SchemaShape inputSchema)
    {
        var o = EstimatorOptions;
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || label.Kind != SchemaShape.Column.VectorKind.Scalar || label.ItemType != Microsoft.ML.Data.NumberDataViewType.Single)
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not Single (float).");
        return Env.Data.Transforms.CopyColumns(o.ScoreColumnName, o.LabelColumnName).GetOutputSchema(inputSchema);
    }

    /// <summary>A multi-label classifier's output schema: the input's plus <c>Score</c> (Single vector) and <c>PredictedLabel</c>
    /// (Boolean vector), both of the label vector's size, once that label is there.</summary>
    /// <remarks>Described by type conversions of the label vector, which keep its size (ML.NET's schema-shape constructors are internal).</remarks>
    private protected SchemaShape LabelSetOutputSchema(SchemaShape inputSchema)
    {
        var o = EstimatorOptions;
        var label = inputSchema.FirstOrDefault(c => c.Name == o.LabelColumnName);
        if (label.Name == null || label.Kind != SchemaShape.Column.VectorKind.Vector
            || (label.ItemType != Microsoft.ML.Data.NumberDataViewType.Single && label.ItemType != Microsoft.ML.Data.BooleanDataViewType.Instance))
            throw new ArgumentOutOfRangeException(nameof(inputSchema), $"Label column '{o.LabelColumnName}' not found or not a vector of known size of Boolean or Single.");
        return Env.Data.Transforms.Conversion.ConvertType(o.ScoreColumnName, o.LabelColumnName, Microsoft.ML.Data.DataKind.Single)
            .Append(Env.Data.Transforms.Conversion.ConvertType(o.PredictedLabelColumnName, o.LabelColumnName, Microsoft.ML.Data.DataKind.Boolean))
            .GetOutputSchema(inputSchema);
    }

    /// <summary>Adds <c>classNames</c> (the class or label names, in output order) to a checkpoint's metadata.</summary>
    internal static System.Text.Json.Nodes.JsonObject WithClassNames(System.Text.Json.Nodes.JsonObject fields, IReadOnlyList<string> classNames)
    {
        fields["classNames"] = new System.Text.Json.Nodes.JsonArray(classNames.Select(c => (System.Text.Json.Nodes.JsonNode)System.Text.Json.Nodes.JsonValue.Create(c)!).ToArray());
        return fields;
    }
}
