using System.Text.Json.Nodes;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp.Modules;
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
    public void MirrorBuffers_SameMastersAsOneCopyPerParameter_ThroughFreezingAndAccumulation()
    {
        // Every tensor made here (forward passes, casts, and the temporaries of AddGradientsToMasters, FlatAdamW.step and
        // MastersToModel, which rely on their caller's scope) is held until the test ends; nothing outlives it.
        using var scope = NewDisposeScope();
        // The mirrored copies (one per optimizer group) against the per-parameter ones, step for step: two batches
        // accumulated per step, the backbone frozen for the first two steps (its masters get no gradient and no update)
        // and trained after. Element-wise casts and additions in both, so the masters agree exactly.
        var models = new[] { new TinyFineTunable(3), new TinyFineTunable(3) };
        var mixed = models.Select(MixedPrecision.Begin).ToArray();
        var optimizers = mixed.Select(m => new FlatAdamW([new AdamW.ParamGroup(m.Masters.ToArray(), new AdamW.Options { LearningRate = 1e-2, weight_decay = 0.01 })], 1e-2, 0.01)).ToArray();
        mixed[1].MirrorBuffers(optimizers[1]);
        var g = new Generator(7);
        for (int step = 0; step < 5; step++)
        {
            for (int k = 0; k < 2; k++)
            {
                var x = randn([8, TinyFineTunable.Features], generator: g);
                var y = randint(0, 2, [8], generator: g);
                for (int i = 0; i < 2; i++)
                {
                    models[i].SetTrainingMode(backboneFrozen: step < 2);
                    nn.functional.cross_entropy(models[i].Forward([x]).to(float32), y).backward();
                    mixed[i].AddGradientsToMasters();
                }
            }
            for (int i = 0; i < 2; i++)
            {
                optimizers[i].step();
                mixed[i].MastersToModel();
                optimizers[i].zero_grad();
            }
            var (one, mirrored) = (mixed[0].Masters.ToArray(), mixed[1].Masters.ToArray());
            for (int j = 0; j < one.Length; j++)
                Assert.True(one[j].allclose(mirrored[j], rtol: 0, atol: 0), $"step {step}, master {j}");
        }
        var start = new TinyFineTunable(3).Weights();
        Assert.NotEqual(start["backbone.weight"], models[1].Weights()["backbone.weight"]);   // trained after the frozen steps
        foreach (var o in optimizers) o.Dispose();
        foreach (var m in mixed) m.Dispose();
    }

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
