using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// ML.NET's own k-fold cross-validation over a pipeline that ends in the estimator, as an ML.NET user estimates a model's
/// accuracy on a data set too small to hold out a test split: <c>MulticlassClassification.CrossValidate</c> adds its
/// split column, fits the whole pipeline once per fold and scores the fold's held-out rows with the fold's model.
/// </summary>
public class FineTuneImageClassifierCrossValidationTests(ITestOutputHelper output)
{
    [Fact]
    public void CrossValidate_ThreeFolds_EveryFoldLearnsAndScoresExactlyItsHeldOutRows()
    {
        // 52 images of each of the three classes (the shared fixture's rows, train and test together), three folds.
        var rows = ThreeClassModel.Classes.SelectMany(c => TestData.Fashion("train", 12, c).Concat(TestData.Fashion("test", 40, c))).ToArray();
        var ml = new MLContext(seed: 1);
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
            .Append(ml.MulticlassClassification.Trainers.FineTuneImageClassifier(ThreeClassModel.Options(usePretrainedWeights: true)));

        var folds = ml.MulticlassClassification.CrossValidate(data, pipeline, numberOfFolds: 3);
        try
        {
            foreach (var fold in folds)
                output.WriteLine($"fold {fold.Fold}: micro accuracy {fold.Metrics.MicroAccuracy:F3}, log-loss {fold.Metrics.LogLoss:F3}, " +
                                 $"{fold.ScoredHoldOutSet.GetColumn<string>(nameof(ImageFolder.Row.ImagePath)).Count()} held-out rows");

            Assert.Equal(3, folds.Count);
            // Each fold's model is the fitted pipeline with the estimator's transformer last, scoring only the rows it
            // did not train on: together the held-out sets are every row once.
            Assert.All(folds, f => Assert.NotNull(Assert.IsType<TransformerChain<FineTuneImageClassifierTransformer>>(f.Model).LastTransformer));
            var heldOut = folds.SelectMany(f => f.ScoredHoldOutSet.GetColumn<string>(nameof(ImageFolder.Row.ImagePath))).ToArray();
            Assert.Equal(rows.Select(r => r.ImagePath).Order(), heldOut.Order());
            // Chance is 1/3; a guesser reaching 0.6 on a fold's ~52 rows has a tail probability below 1e-4, on all three
            // far below. (This run: 0.98-1.0 per fold, 49-54 held-out rows each.)
            Assert.All(folds, f => Assert.True(f.Metrics.MicroAccuracy >= 0.6, $"fold {f.Fold}: micro accuracy {f.Metrics.MicroAccuracy:F3}"));
        }
        finally
        {
            foreach (var fold in folds) (fold.Model as IDisposable)?.Dispose();
        }
    }
}
