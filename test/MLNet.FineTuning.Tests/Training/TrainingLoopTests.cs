using System.Text.Json.Nodes;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

public class TrainingLoopTests
{
    private static FineTuneImageClassifier.Options Options(int epochs) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = 1e-2, WarmupFraction = 0.25, LogEveryNSteps = 1,
    };

    private static TrainingResult Run(FineTuningOptions options, TinyFineTunable model, IBatchSource train, IBatchSource? validation = null) =>
        new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(model, train, validation);

    [Fact]
    public void Run_ProgressCallback_ReportsEachStepAndEpochEndWithScheduledRateAndThroughput()
    {
        var log = new ProgressLog();
        var options = Options(epochs: 2);
        options.Progress = log;
        var delay = TimeSpan.FromMilliseconds(25);

        Run(options, new TinyFineTunable(1), new SyntheticBatches(32, 8, delayPerBatch: delay));

        var epochEnds = log.Reports.Where(r => r.IsEpochEnd).ToArray();
        Assert.Equal([1, 2], epochEnds.Select(r => r.Epoch));
        Assert.Equal(8, log.Reports.Count(r => !r.IsEpochEnd));   // 4 steps per epoch, LogEveryNSteps 1
        foreach (var r in log.Reports)
        {
            Assert.Equal(8, r.TotalSteps);
            // The head's rate in force at the last step taken: LearningRate × schedule factor of step Step-1.
            double expected = options.LearningRate * LearningRateScheduleMath.Factor(options.Schedule, r.Step - 1, 8, options.WarmupFraction);
            Assert.Equal(expected, r.LearningRate, 1e-12);
            // Each batch takes at least `delay`, so no report can honestly claim more than 8 rows per delay.
            double ceiling = 8 / delay.TotalSeconds;
            Assert.InRange(r.SamplesPerSecond, 1e-3, ceiling);
        }
        Assert.All(epochEnds, r => Assert.InRange(r.TrainAccuracy, 0, 1));
    }

    [Fact]
    public void Run_EarlyStoppingPatienceOne_StopsAndRestoresBestEpochWeights()
    {
        var model = new TinyFineTunable(1);
        var weightsAtEpochEnd = new List<Dictionary<string, float[]>>();
        var options = Options(epochs: 5);
        options.EarlyStoppingPatience = 1;
        options.Progress = new ProgressLog(r => { if (r.IsEpochEnd) weightsAtEpochEnd.Add(model.Weights()); });

        var result = Run(options, model, new SyntheticBatches(16, 8), new ScriptedValidation(model, 0.5, 0.75, 0.25, 1, 1));

        Assert.True(result.StoppedEarly);
        Assert.Equal(3, result.EpochsRun);
        Assert.Equal([0.5, 0.75, 0.25], result.Epochs.Select(e => e.ValidationAccuracy!.Value));
        Assert.Equal(1, result.BestEpoch);
        Assert.Equal(0.75, result.BestMetric);
        // The best epoch's per-row hits (the script gets its first 6 of 8 rows right), not the last epoch's 2 of 8.
        Assert.Equal([true, true, true, true, true, true, false, false], result.ValidationHits);
        Assert.Equal(weightsAtEpochEnd[1], model.Weights());
        Assert.NotEqual(weightsAtEpochEnd[2], model.Weights());
    }

    [Fact]
    public void Run_ValidationWithoutEarlyStopping_RunsAllEpochsAndRestoresBestWeights()
    {
        var model = new TinyFineTunable(1);
        var weightsAtEpochEnd = new List<Dictionary<string, float[]>>();
        var options = Options(epochs: 3);
        options.Progress = new ProgressLog(r => { if (r.IsEpochEnd) weightsAtEpochEnd.Add(model.Weights()); });

        var result = Run(options, model, new SyntheticBatches(16, 8), new ScriptedValidation(model, 0.5, 1, 0.25));

        Assert.False(result.StoppedEarly);
        Assert.Equal(3, result.EpochsRun);
        Assert.Equal(weightsAtEpochEnd[1], model.Weights());
    }

    [Fact]
    public void Run_EarlyStoppingOnLoss_WatchesLossNotAccuracy()
    {
        // Accuracy is flat (a plateau that would stop an accuracy watcher after epoch 2); loss keeps falling
        // on separable data, so a loss watcher runs every epoch.
        var model = new TinyFineTunable(1);
        var options = Options(epochs: 4);
        options.EarlyStoppingPatience = 1;
        options.EarlyStoppingMetric = EarlyStoppingMetric.Loss;

        var result = Run(options, model, new SyntheticBatches(16, 8), new SyntheticBatches(8, 8, seed: 5));

        Assert.False(result.StoppedEarly);
        Assert.Equal(4, result.EpochsRun);
        var losses = result.Epochs.Select(e => e.ValidationLoss!.Value).ToArray();
        Assert.Equal(losses.Min(), result.BestMetric);
    }

    [Fact]
    public void Run_CancelledMidEpoch_SavesCheckpointAtTheStepReachedAndThrows()
    {
        using var dir = new TempDirectory();
        using var cts = new CancellationTokenSource();
        var options = Options(epochs: 2);
        options.CheckpointDirectory = dir.File("ckpt");
        options.CancellationToken = cts.Token;
        options.Progress = new ProgressLog(r => { if (r.Step == 1) cts.Cancel(); });

        // The source stops at once when cancelled (as the image source does when its queue is empty):
        // the checkpoint must not depend on the loop seeing one more batch.
        Assert.ThrowsAny<OperationCanceledException>(() => Run(options, new TinyFineTunable(1), new SyntheticBatches(32, 8)));

        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(options.CheckpointDirectory, Checkpoint.StateFile)))!["state"]!;
        Assert.Equal(0, state["Epoch"]!.GetValue<int>());
        Assert.Equal(1, state["StepInEpoch"]!.GetValue<int>());
        Assert.Equal(1, state["GlobalStep"]!.GetValue<long>());
    }

    /// <summary>A 3-epoch run to the end, and the same run cancelled at step 6 (the middle of epoch 2) with its checkpoint.</summary>
    private static (TinyFineTunable Uninterrupted, string Checkpoint) UninterruptedAndCancelledAtStep6(TempDirectory dir)
    {
        var uninterrupted = new TinyFineTunable(1);
        Run(Options(epochs: 3), uninterrupted, new SyntheticBatches(32, 8));
        using var cts = new CancellationTokenSource();
        var cancelled = Options(epochs: 3);
        cancelled.CheckpointDirectory = dir.File("ckpt");
        cancelled.CancellationToken = cts.Token;
        cancelled.Progress = new ProgressLog(r => { if (r.Step == 6) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Run(cancelled, new TinyFineTunable(1), new SyntheticBatches(32, 8)));
        return (uninterrupted, cancelled.CheckpointDirectory);
    }

    [Fact]
    public void Run_ResumedFromCancelCheckpoint_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var dir = new TempDirectory();
        var (uninterrupted, checkpoint) = UninterruptedAndCancelledAtStep6(dir);

        var resumedLog = new ProgressLog();
        var resumedOptions = Options(epochs: 3);
        resumedOptions.ResumeFromCheckpoint = checkpoint;
        resumedOptions.Progress = resumedLog;
        var resumed = new TinyFineTunable(1);
        var result = Run(resumedOptions, resumed, new SyntheticBatches(32, 8));

        Assert.Equal(3, result.EpochsRun);
        Assert.Equal(7, resumedLog.Reports.First().Step);   // the first step after the cut
        Assert.Equal(12, resumedLog.Reports.Last().Step);
        Assert.Equal(uninterrupted.Weights(), resumed.Weights());
    }

    [Fact]
    public void Run_ResumedWithALowerLearningRate_GoesOnAtTheNewRateFromTheScheduledPosition()
    {
        // What a user does after a divergence: resume from the last checkpoint with a lower rate. The schedule's position
        // comes from the checkpoint, its base rate from the new options.
        using var dir = new TempDirectory();
        var (_, checkpoint) = UninterruptedAndCancelledAtStep6(dir);

        var resumedLog = new ProgressLog();
        var resumedOptions = Options(epochs: 3);
        resumedOptions.LearningRate = 1e-3;
        resumedOptions.ResumeFromCheckpoint = checkpoint;
        resumedOptions.Progress = resumedLog;
        Run(resumedOptions, new TinyFineTunable(1), new SyntheticBatches(32, 8));

        var step7 = resumedLog.Reports.First(r => !r.IsEpochEnd);
        Assert.Equal(7, step7.Step);
        Assert.Equal(1e-3 * LearningRateScheduleMath.Factor(resumedOptions.Schedule, 6, 12, resumedOptions.WarmupFraction), step7.LearningRate, 1e-12);
    }

    [Fact]
    public void Resume_AfterAKillBetweenTheCheckpointSwapsMoves_FindsThePreviousCheckpoint()
    {
        using var dir = new TempDirectory();
        var (uninterrupted, ckpt) = UninterruptedAndCancelledAtStep6(dir);

        // What a SIGKILL during the next save's swap leaves: the checkpoint moved aside as .old-<pid>, a half-written
        // .tmp-<pid>, and no folder (or an empty one) under the checkpoint's name.
        // The pid is past Linux's largest (2²²): that process is gone.
        Directory.Move(ckpt, ckpt + ".old-2000000000");
        Directory.CreateDirectory(ckpt + ".tmp-2000000000");
        File.WriteAllText(Path.Combine(ckpt + ".tmp-2000000000", "model.safetensors"), "half");
        Directory.CreateDirectory(ckpt);

        var resumedOptions = Options(epochs: 3);
        resumedOptions.ResumeFromCheckpoint = ckpt;
        var resumed = new TinyFineTunable(1);
        Run(resumedOptions, resumed, new SyntheticBatches(32, 8));

        Assert.Equal(uninterrupted.Weights(), resumed.Weights());
        Assert.False(Directory.Exists(ckpt + ".old-2000000000"));
        Assert.False(Directory.Exists(ckpt + ".tmp-2000000000"));
    }

    [Fact]
    public void Recover_TemporaryFolderOfALiveProcess_IsLeftToIt()
    {
        // Another process still writing its save (its .tmp-<pid>) is not a leftover: only a dead writer's folder is.
        using var dir = new TempDirectory();
        string ckpt = dir.File("checkpoint");
        using var live = System.Diagnostics.Process.Start("sleep", "60");
        try
        {
            Directory.CreateDirectory(ckpt + ".tmp-" + live.Id);
            Directory.CreateDirectory(ckpt + ".tmp-2000000000");

            Checkpoint.Recover(ckpt);

            Assert.True(Directory.Exists(ckpt + ".tmp-" + live.Id));
            Assert.False(Directory.Exists(ckpt + ".tmp-2000000000"));
        }
        finally { live.Kill(); }
    }

    [Fact]
    public void Run_FreezeBackboneEpochs_BackboneUnchangedWhileFrozen()
    {
        var model = new TinyFineTunable(1);
        var before = model.Weights();
        var options = Options(epochs: 2);
        options.FreezeBackboneEpochs = 1;
        var afterEpoch1 = new Dictionary<string, float[]>();
        options.Progress = new ProgressLog(r => { if (r.IsEpochEnd && r.Epoch == 1) afterEpoch1 = model.Weights(); });

        var result = Run(options, model, new SyntheticBatches(16, 8));

        Assert.True(result.Epochs[0].BackboneFrozen);
        Assert.False(result.Epochs[1].BackboneFrozen);
        Assert.Equal(before["backbone.weight"], afterEpoch1["backbone.weight"]);
        Assert.NotEqual(before["head.weight"], afterEpoch1["head.weight"]);
        Assert.NotEqual(afterEpoch1["backbone.weight"], model.Weights()["backbone.weight"]);
    }
}

public class LabelSmoothingTests
{
    /// <summary>Mean probability of the predicted class on the training rows after <paramref name="epochs"/> epochs.</summary>
    private static double Confidence(double smoothing)
    {
        var model = new TinyFineTunable(2);
        var options = new FineTuneImageClassifier.Options { Epochs = 40, BatchSize = 8, LearningRate = 3e-2, LabelSmoothing = smoothing, WeightDecay = 0 };
        var data = new SyntheticBatches(32, 8);
        new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(model, data, null);
        using var _ = no_grad();
        return data.Batches(0, CancellationToken.None).Average(b =>
        {
            using (b)
            using (NewDisposeScope())   // holds the logits and the max/mean temporaries until the value is read
            using (var p = nn.functional.softmax(model.Forward(b.Inputs), 1))
                return p.max(1).values.mean().item<float>();
        });
    }

    [Fact]
    public void Run_LabelSmoothing_CapsTheConfidenceOnSeparableData()
    {
        // Two well-separated classes: plain cross-entropy drives the predicted probability towards 1; with smoothing s
        // the optimum is 1 − s + s/K (0.9 for s = 0.2, K = 2), so the trained network stays well below certainty.
        double plain = Confidence(0), smoothed = Confidence(0.2);

        Assert.True(plain > 0.97, $"plain {plain}");
        Assert.InRange(smoothed, 0.85, 0.93);
    }
}

public class GradientAccumulationTests
{
    private static Dictionary<string, float[]> Train(int batchSize, int accumulate)
    {
        var model = new TinyFineTunable(4);
        var options = new FineTuneImageClassifier.Options
        {
            Epochs = 3, BatchSize = batchSize, GradientAccumulationSteps = accumulate, LearningRate = 1e-2, HeadDropout = 0,
        };
        // SyntheticBatches serves its rows in order, so four batches of 8 hold exactly the rows of one batch of 32.
        new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(model, new SyntheticBatches(32, batchSize), null);
        return model.Weights();
    }

    [Fact]
    public void Run_FourBatchesAccumulated_EqualOneBatchFourTimesLarger()
    {
        var accumulated = Train(batchSize: 8, accumulate: 4);
        var large = Train(batchSize: 32, accumulate: 1);
        var plain = Train(batchSize: 8, accumulate: 1);

        foreach (var (name, w) in large)
            for (int i = 0; i < w.Length; i++) Assert.Equal(w[i], accumulated[name][i], 1e-5);
        // and it is not what four separate steps of 8 give
        Assert.Contains(large, kv => kv.Value.Zip(plain[kv.Key]).Any(p => Math.Abs(p.First - p.Second) > 1e-3));
    }

    [Fact]
    public void Run_AccumulationWithAShortLastStep_CountsOptimizerSteps()
    {
        // 40 rows in batches of 8 = 5 batches an epoch; accumulating 2 gives steps of 2, 2 and 1 batches.
        var log = new ProgressLog();
        var options = new FineTuneImageClassifier.Options { Epochs = 2, BatchSize = 8, GradientAccumulationSteps = 2, LogEveryNSteps = 1, Progress = log };

        new TrainingLoop(options, CPU, null, () => new JsonObject()).Run(new TinyFineTunable(1), new SyntheticBatches(40, 8), null);

        var steps = log.Reports.Where(r => !r.IsEpochEnd).ToArray();
        Assert.Equal(Enumerable.Range(1, 6), steps.Select(r => (int)r.Step));
        Assert.All(steps, r => Assert.Equal(6, r.TotalSteps));
    }
}
