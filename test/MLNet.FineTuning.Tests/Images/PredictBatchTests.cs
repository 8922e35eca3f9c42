using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Images;

public class PredictBatchTests
{
    [Fact]
    public void PredictBatches_SameRows_MatchesTransformScoresAndLabels()
    {
        var ml = new MLContext(seed: 1);
        var rows = TestData.Fashion("train", 6, "Trouser", "Bag", "Sneaker");
        var data = TestData.Load(ml, rows);
        using var model = new FineTuneImageClassifier(ml, new FineTuneImageClassifier.Options
        {
            Epochs = 1, BatchSize = 6, ImageSize = 32, UsePretrainedWeights = false, Backbone = "resnet18",
        }).Fit(data);

        var viaMlNet = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        var batched = model.PredictBatches(data, batchSize: 4).ToArray();   // 18 rows: 4 full batches and a partial one

        Assert.Equal(viaMlNet.Length, batched.Length);
        for (int i = 0; i < batched.Length; i++)
        {
            Assert.Equal(viaMlNet[i].Length, batched[i].Score.Length);
            for (int k = 0; k < viaMlNet[i].Length; k++) Assert.Equal(viaMlNet[i][k], batched[i].Score[k], 5);
            int best = Array.IndexOf(batched[i].Score, batched[i].Score.Max());
            Assert.Equal(model.ClassNames[best], batched[i].PredictedLabel);
        }
    }
}
