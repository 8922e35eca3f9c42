using Microsoft.ML;
using Microsoft.ML.Data;

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

        // Every row scored: a probability per class that sums to 1, and the predicted label is the most probable
        // class's, one of the two trained on.
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(16, scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(2, scores[i].Length);
            Assert.All(scores[i], p => Assert.InRange(p, 0f, 1f));
            Assert.Equal(1f, scores[i].Sum(), 4);
            Assert.Equal((uint)Array.IndexOf(scores[i], scores[i].Max()) + 1, predicted[i]);   // keys count from 1
        }
        Assert.Equal(["Bag", "Trouser"], model.ClassNames.Order());
    }
}
