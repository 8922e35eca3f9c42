using Microsoft.ML;
using MLNet.FineTuning.Evaluation;

namespace MLNet.FineTuning;

/// <summary>
/// Multi-label classification for an <see cref="MLContext"/>, which has no catalog for it: <c>mlContext.MultiLabelClassification()</c>
/// gives the trainers and the evaluator, as <c>mlContext.MulticlassClassification</c> does for single-label classification.
/// </summary>
public sealed class MultiLabelClassificationCatalog
{
    internal MultiLabelClassificationCatalog(MLContext mlContext) => Trainers = new MultiLabelTrainers(mlContext);

    /// <summary>The multi-label trainers.</summary>
    public MultiLabelTrainers Trainers { get; }

    /// <summary>Evaluates scored data: the label flags (a vector of Boolean or Single 0/1), the probabilities (<c>Score</c>,
    /// a Single vector) and the predicted flags (<c>PredictedLabel</c>, a Boolean vector), all of the same size.</summary>
    /// <exception cref="ArgumentException">A column is missing or of another type or size; the message names it.</exception>
    public MultiLabelMetrics Evaluate(IDataView data, string labelColumnName = ColumnNames.Label, string scoreColumnName = ColumnNames.Score,
        string predictedLabelColumnName = ColumnNames.PredictedLabel)
    {
        Check.NotNull(data, nameof(data));
        return MultiLabelEvaluator.Evaluate(data, labelColumnName, scoreColumnName, predictedLabelColumnName);
    }

    /// <summary>The trainers: <c>mlContext.MultiLabelClassification().Trainers</c>.</summary>
    public sealed class MultiLabelTrainers
    {
        private readonly MLContext mlContext;

        internal MultiLabelTrainers(MLContext mlContext) => this.mlContext = mlContext;

        /// <summary>Fine-tunes a pretrained CNN to predict a set of labels per image; see <see cref="FineTuneImageMultiLabelClassifier.Options"/>.</summary>
        public FineTuneImageMultiLabelClassifier FineTuneImageClassifier(FineTuneImageMultiLabelClassifier.Options options) =>
            new(mlContext, Check.NotNull(options, nameof(options)));

        /// <summary>LoRA fine-tuning of a pretrained encoder to predict a set of labels per text; see <see cref="LoraTextMultiLabelClassifier.Options"/>.</summary>
        public LoraTextMultiLabelClassifier LoraTextClassifier(LoraTextMultiLabelClassifier.Options options) =>
            new(mlContext, Check.NotNull(options, nameof(options)));
    }
}

/// <summary>The entry point of <see cref="MultiLabelClassificationCatalog"/>.</summary>
public static class MultiLabelClassificationCatalogExtensions
{
    /// <summary>Multi-label classification: trainers and evaluator.</summary>
    public static MultiLabelClassificationCatalog MultiLabelClassification(this MLContext mlContext) => new(Check.NotNull(mlContext, nameof(mlContext)));
}
