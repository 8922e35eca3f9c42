using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>
/// Two Fits on two threads at once, with the same seed, give exactly the scores of one Fit alone: they would otherwise
/// interleave their draws from TorchSharp's one process-wide generator (weight initialisation, dropout).
/// </summary>
[Collection(Alone)]
public class ConcurrentFitTests
{
    /// <summary>Run with no other test beside it: other tests draw from TorchSharp's generator outside any Fit (module
    /// initialisation, the training loop's own tests), and the gate orders Fits only.</summary>
    public const string Alone = "Concurrent Fits, alone";

    private static float[] FitAndScore(int seed)
    {
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 4, ["Trouser", "Bag"]));
        var options = new FineTuneImageClassifier.Options
        {
            Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 2, HeadDropout = 0.5, Seed = seed,
        };
        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(data);
        return [.. model.Transform(data).GetColumn<float[]>("Score").SelectMany(s => s)];
    }

    [Fact]
    public async Task TwoFitsOnTwoThreads_SameSeed_EachGivesTheScoresOfAFitAlone()
    {
        var alone = FitAndScore(seed: 7);

        using var start = new Barrier(2);
        var both = Enumerable.Range(0, 2).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return FitAndScore(seed: 7);
        }, TaskCreationOptions.LongRunning)).ToArray();
        var results = await Task.WhenAll(both);

        Assert.Equal(alone, results[0]);
        Assert.Equal(alone, results[1]);
    }
}

[CollectionDefinition(ConcurrentFitTests.Alone, DisableParallelization = true)]
public sealed class ConcurrentFitCollection;
