using System.Text.Json.Nodes;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>bf16 mixed precision runs on the CPU too (slowly), so its bookkeeping is tested here.</summary>
public class MixedPrecisionTests
{
    private static FineTuneImageClassifier.Options Options(int epochs, double learningRate) => new()
    {
        Epochs = epochs, BatchSize = 8, LearningRate = learningRate, BackboneLearningRateFactor = 1, WeightDecay = 0,
        Schedule = LearningRateSchedule.Constant, WarmupFraction = 0, GradientClipNorm = 0, LogEveryNSteps = 1,
        Precision = TrainingPrecision.BFloat16,
    };

    private static TrainingResult Run(FineTuningOptions options, TinyFineTunable model, IBatchSource train) =>
        new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(model, train, null);

    [Fact]
    public void Run_BFloat16_UpdatesSmallerThanBf16SpacingSurviveInTheFp32Masters()
    {
        var model = new TinyFineTunable(1);
        var before = model.Weights();

        // Adam moves each weight by about the learning rate per step: 4 steps × 1e-6 is far below bf16's spacing
        // near these weights (|w| ≈ 0.1-0.5: 2^-10 to 2^-8). A bf16-only network would not move at all, and
        // masters made from the bf16 rounding would be off by up to ~1e-3.
        Run(Options(epochs: 1, learningRate: 1e-6), model, new SyntheticBatches(32, 8));

        Assert.All(model.ParameterTypes(), t => Assert.Equal(ScalarType.Float32, t));
        var after = model.Weights();
        var deltas = before.Keys.SelectMany(k => before[k].Zip(after[k], (a, b) => Math.Abs(a - b))).ToArray();
        Assert.True(deltas.Max() < 1e-5, $"largest change {deltas.Max()}: the masters did not start from the fp32 weights");
        Assert.True(deltas.Count(d => d > 0) > deltas.Length / 2, $"only {deltas.Count(d => d > 0)} of {deltas.Length} weights moved");
    }

    [Fact]
    public void Run_BFloat16_LearnsTheSyntheticTaskAndEndsInFp32()
    {
        var model = new TinyFineTunable(2);
        var result = Run(Options(epochs: 3, learningRate: 1e-2), model, new SyntheticBatches(64, 8));

        Assert.True(result.Epochs[^1].TrainAccuracy > 0.9, $"train accuracy {result.Epochs[^1].TrainAccuracy}");
        Assert.All(model.ParameterTypes(), t => Assert.Equal(ScalarType.Float32, t));
    }

    [Fact]
    public void Run_BFloat16ResumedFromCancelCheckpoint_EndsWithTheWeightsOfAnUninterruptedRun()
    {
        using var dir = new TempDirectory();
        var uninterrupted = new TinyFineTunable(1);
        Run(Options(epochs: 2, learningRate: 1e-2), uninterrupted, new SyntheticBatches(32, 8));

        using var cts = new CancellationTokenSource();
        var cancelled = Options(epochs: 2, learningRate: 1e-2);
        cancelled.CheckpointDirectory = dir.File("ckpt");
        cancelled.CancellationToken = cts.Token;
        cancelled.Progress = new ProgressLog(r => { if (r.Step == 5) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() => Run(cancelled, new TinyFineTunable(1), new SyntheticBatches(32, 8)));

        // The checkpoint holds the fp32 masters, not their bf16 rounding.
        var saved = TorchSharp.PyBridge.Safetensors.LoadStateDict(Path.Combine(cancelled.CheckpointDirectory, Checkpoint.ModelFile));
        Assert.All(saved.Values, t => Assert.Equal(ScalarType.Float32, t.dtype));

        var resumedOptions = Options(epochs: 2, learningRate: 1e-2);
        resumedOptions.ResumeFromCheckpoint = cancelled.CheckpointDirectory;
        var resumed = new TinyFineTunable(1);
        Run(resumedOptions, resumed, new SyntheticBatches(32, 8));

        Assert.Equal(uninterrupted.Weights(), resumed.Weights());
    }
}
