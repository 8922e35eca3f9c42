using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>The automatic recipe through an estimator on real images. Alone (<see cref="SeededTorchRuns"/>): it compares
/// the kept model with a plain fit of the kept options exactly, and a test on another thread drawing from TorchSharp's
/// global generator between them would change one of the two (seen once in CI, 2026-12-07).</summary>
[Collection(SeededTorchRuns.Name)]
public class RecipeSearchFitTests
{
    [Fact]
    public void Fit_ImageTimeBudget_SearchesOnAHeldOutFifthThenTrainsTheChosenRecipeOnAllRows()
    {
        // The search's logic is tested in RecipeSearchTests with fake runs; this checks the estimator's wiring on real
        // images, with a budget that leaves room for a few runs at most: a held-out fifth validates the trials, the runs
        // are recorded, and the model returned is the final run's, on all 30 rows (4 batches of 8 per epoch; 24 rows
        // would make 3).
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 10, ["Bag", "Sandal", "Trouser"]));
        var estimator = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            LabelColumnName = "Label", ImageColumnName = "Image", ImageSize = 32, BatchSize = 8, Epochs = 2,
            TimeBudget = TimeSpan.FromSeconds(10),
        });

        using var model = estimator.Fit(data);

        // How far the search gets in 10 s depends on the machine; what must hold does not.
        var search = Assert.IsType<RecipeSearchResult>(model.RecipeSearch);
        if (search.LearningRateRange == null) Assert.Single(search.Trials);   // stopped by the budget: only the final run
        Assert.Same(search.Trials[^1], search.Chosen);
        Assert.All(search.Trials.SkipLast(1), t => Assert.InRange(t.Score, 0, 1));
        Assert.True(double.IsNaN(search.Chosen.Score));
        Assert.All(model.History, h => Assert.Null(h.ValidationAccuracy));
        Assert.Equal(2, model.History.Count);
        Assert.Equal(8, model.History[^1].TotalSteps);
        Assert.Equal(30, ml.MulticlassClassification.Evaluate(model.Transform(data)).ConfusionMatrix.Counts.Sum(r => r.Sum()));

        // The kept options train the kept model again without a search (what train --config of a budget run relies on).
        var keptOptions = Assert.IsType<FineTuneImageClassifier.Options>(search.KeptOptions);
        using var again = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(keptOptions).Fit(data);
        Assert.Null(again.RecipeSearch);
        Assert.Equal(model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s), again.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s));
    }
}
