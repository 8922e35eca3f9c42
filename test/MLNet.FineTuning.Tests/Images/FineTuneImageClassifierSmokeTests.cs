using Microsoft.ML;

namespace MLNet.FineTuning.Tests.Images;

public class FineTuneImageClassifierSmokeTests
{
    [Fact]
    public void Fit_RandomInitTinySubset_ProducesScoresAndKeys()
    {
        var ml = new MLContext(seed: 1);
        var train = TestData.Load(ml, TestData.Fashion("train", 8, "Trouser", "Bag"));
        var est = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            Epochs = 1, BatchSize = 8, ImageSize = 32, UsePretrainedWeights = false, Backbone = "resnet18",
        });
        using var model = est.Fit(train);
        var scored = model.Transform(train);
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
    }
}
