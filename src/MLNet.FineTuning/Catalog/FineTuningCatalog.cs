using Microsoft.ML;

namespace MLNet.FineTuning;

/// <summary>Catalog entry points: <c>mlContext.MulticlassClassification.Trainers.FineTuneImageClassifier(...)</c>,
/// <c>mlContext.Regression.Trainers.FineTuneImageRegressor(...)</c>.</summary>
public static class FineTuningCatalog
{
    /// <summary>Fine-tunes a pretrained CNN; see <see cref="FineTuneImageClassifier.Options"/> for every setting.</summary>
    public static FineTuneImageClassifier FineTuneImageClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers trainers, FineTuneImageClassifier.Options options)
    {
        Check.NotNull(trainers, nameof(trainers));
        Check.NotNull(options, nameof(options));
        return new FineTuneImageClassifier(HostEnvironment.FromCatalog(trainers, options.Seed), options);
    }

    /// <summary>Fine-tunes a pretrained CNN with the common settings; everything else keeps its default.</summary>
    /// <param name="trainers">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="imageColumnName">Image column (from <c>LoadImages</c>).</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Images per step.</param>
    /// <param name="learningRate">Peak learning rate of the head and the backbone.</param>
    /// <param name="imageSize">Network input side in pixels (224 suits a GPU; 64–128 a CPU).</param>
    public static FineTuneImageClassifier FineTuneImageClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers trainers,
        string labelColumnName = ColumnNames.Label, string imageColumnName = ColumnNames.Image,
        int epochs = 5, int batchSize = 32, double learningRate = 1e-3, int imageSize = 224)
        => trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            LabelColumnName = labelColumnName, ImageColumnName = imageColumnName, Epochs = epochs,
            BatchSize = batchSize, LearningRate = learningRate, ImageSize = imageSize,
        });

    /// <summary>LoRA fine-tuning of a pretrained BERT-family encoder; see <see cref="LoraTextClassifier.Options"/> for every setting.</summary>
    public static LoraTextClassifier LoraTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers trainers, LoraTextClassifier.Options options)
    {
        Check.NotNull(trainers, nameof(trainers));
        Check.NotNull(options, nameof(options));
        return new LoraTextClassifier(HostEnvironment.FromCatalog(trainers, options.Seed), options);
    }

    /// <summary>LoRA fine-tuning with the common settings; everything else keeps its default.</summary>
    /// <param name="trainers">The multiclass trainers catalog.</param>
    /// <param name="labelColumnName">Key-typed label column.</param>
    /// <param name="textColumnName">Text column.</param>
    /// <param name="loraRank">LoRA rank r.</param>
    /// <param name="epochs">Passes over the data.</param>
    /// <param name="batchSize">Texts per step.</param>
    /// <param name="learningRate">Peak learning rate of the head (the adapters get <c>BackboneLearningRateFactor</c>, 0.3, of it).</param>
    /// <param name="maxSequenceLength">Most tokens per text.</param>
    public static LoraTextClassifier LoraTextClassifier(
        this MulticlassClassificationCatalog.MulticlassClassificationTrainers trainers,
        string labelColumnName = ColumnNames.Label, string textColumnName = ColumnNames.Text, int loraRank = 8,
        int epochs = 3, int batchSize = 32, double learningRate = 1e-2, int maxSequenceLength = 128)
        => trainers.LoraTextClassifier(new LoraTextClassifier.Options
        {
            LabelColumnName = labelColumnName, TextColumnName = textColumnName, Rank = loraRank, Epochs = epochs,
            BatchSize = batchSize, LearningRate = learningRate, MaxSequenceLength = maxSequenceLength,
        });

    /// <summary>Fine-tunes a pretrained CNN to predict a number; see <see cref="FineTuneImageRegressor.Options"/> for every setting.</summary>
    public static FineTuneImageRegressor FineTuneImageRegressor(
        this RegressionCatalog.RegressionTrainers trainers, FineTuneImageRegressor.Options options)
    {
        Check.NotNull(trainers, nameof(trainers));
        Check.NotNull(options, nameof(options));
        return new FineTuneImageRegressor(HostEnvironment.FromCatalog(trainers, options.Seed), options);
    }

    /// <summary>LoRA fine-tuning of a pretrained encoder to predict a number; see <see cref="LoraTextRegressor.Options"/> for every setting.</summary>
    public static LoraTextRegressor LoraTextRegressor(
        this RegressionCatalog.RegressionTrainers trainers, LoraTextRegressor.Options options)
    {
        Check.NotNull(trainers, nameof(trainers));
        Check.NotNull(options, nameof(options));
        return new LoraTextRegressor(HostEnvironment.FromCatalog(trainers, options.Seed), options);
    }
}
