using Microsoft.ML;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>The shared training options, exercised end to end through FineTuneImageClassifier on 8-16 real images.</summary>
[Collection(SeededTorchRuns.Name)]
public class FineTuningOptionsTests
{
    private static IDataView Images(MLContext ml, int perClass) => TestData.Load(ml, TestData.Fashion("train", perClass, "Trouser", "Bag"));

    /// <summary>Random initialisation (no weight file to read) at 32 px: about a second a fit.</summary>
    private static FineTuneImageClassifier.Options Tiny(int epochs = 2, int seed = 1) => new()
    {
        Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = epochs, Seed = seed,
    };

    private static float[][] Scores(MLContext ml, ITransformer model, IDataView data) =>
        ml.Data.CreateEnumerable<ScoreRow>(model.Transform(data), reuseRowObject: false).Select(r => r.Score).ToArray();

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }

    [Fact]
    public void Fit_ProgressAndValidationFraction_EpochEndReportsCarryRateThroughputAndValidation()
    {
        var ml = new MLContext(1);
        var log = new ProgressLog();
        var options = Tiny(epochs: 2);
        options.ValidationFraction = 0.25;
        options.LogEveryNSteps = 1;
        options.Progress = log;

        using var model = new FineTuneImageClassifier(ml, options).Fit(Images(ml, perClass: 8));

        var epochEnds = log.Reports.Where(r => r.IsEpochEnd).ToArray();
        Assert.Equal([1, 2], epochEnds.Select(r => r.Epoch));
        Assert.Equal(epochEnds, model.History);
        Assert.Contains(log.Reports, r => !r.IsEpochEnd);
        foreach (var r in epochEnds)
        {
            Assert.InRange(r.LearningRate, 1e-12, options.LearningRate);
            Assert.InRange(r.SamplesPerSecond, 1e-3, 1e5);
            Assert.InRange(r.ValidationAccuracy!.Value, 0, 1);
            Assert.True(r.ValidationLoss > 0);
            Assert.True(r.Step <= r.TotalSteps);
        }
        // The held-out quarter is not trained on: 16 rows minus about 4 leave 3 steps of 4 per epoch.
        Assert.InRange(epochEnds[0].TotalSteps, 2 * 2, 2 * 4 - 2);
    }

    [Fact]
    public void Fit_EarlyStoppingOnAPlateau_StopsAfterPatienceEpochs()
    {
        // A learning rate of 1e-8 with frozen normalisation statistics leaves the predictions as they are:
        // validation accuracy cannot improve after epoch 1, so patience 1 ends the run after epoch 2 of 5.
        var ml = new MLContext(1);
        var data = Images(ml, perClass: 4);
        var options = Tiny(epochs: 5);
        options.LearningRate = 1e-8;
        options.FreezeBatchNormStatistics = true;
        options.ValidationSet = data;
        options.EarlyStoppingPatience = 1;

        using var model = new FineTuneImageClassifier(ml, options).Fit(data);

        Assert.True(model.StoppedEarly);
        Assert.Equal([1, 2], model.History.Select(h => h.Epoch));
        var accuracies = model.History.Select(h => h.ValidationAccuracy!.Value).ToArray();
        Assert.Equal(accuracies[0], accuracies[1]);
    }

    [Fact]
    public void Fit_CancelledFromProgress_ThrowsAndResumeFromCheckpointMatchesUninterruptedRun()
    {
        var ml = new MLContext(1);
        var data = Images(ml, perClass: 4);
        using var dir = new TempDirectory();
        string checkpoint = dir.File("checkpoint");
        using var uninterrupted = new FineTuneImageClassifier(ml, Tiny(epochs: 2)).Fit(data);

        using var cts = new CancellationTokenSource();
        var cancelled = Tiny(epochs: 2);
        cancelled.CheckpointDirectory = checkpoint;
        cancelled.CancellationToken = cts.Token;
        cancelled.Progress = new ProgressLog(r => { if (r.IsEpochEnd) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new FineTuneImageClassifier(ml, cancelled).Fit(data));
        Assert.True(File.Exists(Path.Combine(checkpoint, "checkpoint.json")));
        Assert.True(File.Exists(Path.Combine(checkpoint, "model.safetensors")));

        var resume = Tiny(epochs: 2);
        resume.ResumeFromCheckpoint = checkpoint;
        using var resumed = new FineTuneImageClassifier(ml, resume).Fit(data);

        Assert.Equal([2], resumed.History.Select(h => h.Epoch));
        Assert.Equal(uninterrupted.History[^1].Step, resumed.History[^1].Step);
        Assert.Equal(Scores(ml, uninterrupted, data), Scores(ml, resumed, data));
    }

    [Theory]
    [InlineData(2)]   // in the middle of epoch 1
    [InlineData(4)]   // in the middle of epoch 2
    public void Fit_CancelledInTheMiddleOfAnEpoch_ResumeMatchesUninterruptedRunExactly(int cancelAfterStep)
    {
        // Head dropout 0.5, crops and flips: every source of randomness a step has. 12 images in batches of 4: 3 steps an epoch.
        FineTuneImageClassifier.Options Options() => new()
        {
            Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 2, Seed = 3,
            HeadDropout = 0.5, RandomCropMinScale = 0.35, HorizontalFlip = true, LogEveryNSteps = 1,
        };
        var ml = new MLContext(1);
        var data = Images(ml, perClass: 6);
        using var dir = new TempDirectory();
        using var uninterrupted = new FineTuneImageClassifier(ml, Options()).Fit(data);

        using var cts = new CancellationTokenSource();
        var cancelled = Options();
        cancelled.CheckpointDirectory = dir.File("checkpoint");
        cancelled.CancellationToken = cts.Token;
        cancelled.Progress = new ProgressLog(r => { if (!r.IsEpochEnd && r.Step == cancelAfterStep) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => new FineTuneImageClassifier(ml, cancelled).Fit(data));

        var resume = Options();
        resume.ResumeFromCheckpoint = cancelled.CheckpointDirectory;
        using var resumed = new FineTuneImageClassifier(ml, resume).Fit(data);

        Assert.Equal(Scores(ml, uninterrupted, data), Scores(ml, resumed, data));
    }

    [Fact]
    public void Fit_SameSeedTwice_IdenticalScores_OtherSeedDiffers()
    {
        var ml = new MLContext(1);
        var data = Images(ml, perClass: 4);

        using var first = new FineTuneImageClassifier(ml, Tiny(epochs: 1, seed: 5)).Fit(data);
        using var second = new FineTuneImageClassifier(ml, Tiny(epochs: 1, seed: 5)).Fit(data);
        using var other = new FineTuneImageClassifier(ml, Tiny(epochs: 1, seed: 6)).Fit(data);

        Assert.Equal(Scores(ml, first, data), Scores(ml, second, data));
        Assert.NotEqual(Scores(ml, first, data), Scores(ml, other, data));
    }
}
