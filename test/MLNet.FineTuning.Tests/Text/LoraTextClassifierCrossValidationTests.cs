using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Pretrained;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// ML.NET's own k-fold cross-validation over a pipeline that ends in the LoRA text classifier (the image classifier's is in
/// <c>FineTuneImageClassifierCrossValidationTests</c>): <c>CrossValidate</c> checks the pipeline's schema, adds its split
/// column, fits the pipeline once per fold and scores the fold's held-out rows. A tiny random BERT folder keeps the three
/// fits to seconds; its two topics are told apart by words every fold has seen, in sentences it has not.
/// </summary>
public class LoraTextClassifierCrossValidationTests(ITestOutputHelper output)
{
    [Fact]
    public void CrossValidate_ThreeFolds_EveryFoldLearnsAndScoresExactlyItsHeldOutRows()
    {
        using var dir = new TempDirectory();
        TopicRows.WriteEncoderFolder(dir);
        var rows = TopicRows.Create(36);
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                Encoder = PretrainedCatalog.BertFolder, EncoderPath = dir.Path, MaxSequenceLength = 16, Epochs = 12, BatchSize = 8,
            }));

        var folds = ml.MulticlassClassification.CrossValidate(data, pipeline, numberOfFolds: 3);
        try
        {
            foreach (var fold in folds)
                output.WriteLine($"fold {fold.Fold}: micro accuracy {fold.Metrics.MicroAccuracy:F3}, log-loss {fold.Metrics.LogLoss:F3}, " +
                                 $"{fold.ScoredHoldOutSet.GetColumn<string>(nameof(TopicRows.Row.Text)).Count()} held-out rows");

            Assert.Equal(3, folds.Count);
            Assert.All(folds, f => Assert.NotNull(Assert.IsType<TransformerChain<LoraTextClassifierTransformer>>(f.Model).LastTransformer));
            // Together the held-out sets are every row once (the sentences are drawn at random and may repeat: compare as bags).
            var heldOut = folds.SelectMany(f => f.ScoredHoldOutSet.GetColumn<string>(nameof(TopicRows.Row.Text))).ToArray();
            Assert.Equal(rows.Select(r => r.Text).Order(), heldOut.Order());
            // Chance is 1/2; a guesser reaching 0.75 on a fold's ~24 rows has a tail probability near 0.01, on all three
            // near 1e-6.
            Assert.All(folds, f => Assert.True(f.Metrics.MicroAccuracy >= 0.75, $"fold {f.Fold}: micro accuracy {f.Metrics.MicroAccuracy:F3}"));
        }
        finally
        {
            foreach (var fold in folds) (fold.Model as IDisposable)?.Dispose();
        }
    }
}
