using System.Text.Json.Nodes;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>A loss that stops being a number stops the run in its own step, before that step changes the weights.</summary>
public class DivergenceTests
{
    /// <summary>SyntheticBatches with one batch's inputs replaced by <paramref name="poison"/> (NaN or ∞): the
    /// <paramref name="poisoned"/>-th batch of the run, counting from 1 over all epochs.</summary>
    private sealed class PoisonedBatches(SyntheticBatches inner, int poisoned, float poison) : IBatchSource
    {
        private int served;

        public long RowCount => inner.RowCount;

        public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
        {
            foreach (var batch in inner.Batches(epoch, cancellation))
            {
                if (++served != poisoned) { yield return batch; continue; }
                using (batch) yield return new Batch([full_like(batch.Inputs[0], poison)], batch.Labels.clone());
            }
        }
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    public void Run_LossNotFinite_ThrowsNamingStepEpochAndRate_AndKeepsTheWeightsOfTheStepBefore(float poison)
    {
        var model = new TinyFineTunable(1);
        var weightsAfterStep = new Dictionary<long, Dictionary<string, float[]>>();
        var options = new FineTuneImageClassifier.Options
        {
            Epochs = 3, BatchSize = 8, LearningRate = 1e-2, WarmupFraction = 0.25, LogEveryNSteps = 1,
            Progress = new ProgressLog(r => { if (!r.IsEpochEnd) weightsAfterStep[r.Step] = model.Weights(); }),
        };
        // 4 batches per epoch: the 7th batch is step 7, in epoch 2.
        var train = new PoisonedBatches(new SyntheticBatches(32, 8), poisoned: 7, poison);

        var e = Assert.Throws<TrainingDivergedException>(() =>
            new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(model, train, null));

        Assert.Equal("loss", e.Quantity);
        Assert.Equal(7, e.Step);
        Assert.Equal(2, e.Epoch);
        double rate = options.LearningRate * LearningRateScheduleMath.Factor(options.Schedule, 6, 12, options.WarmupFraction);
        Assert.Equal(rate, e.LearningRate, 1e-12);
        Assert.Contains("step 7 (epoch 2 of 3", e.Message);
        Assert.Contains("Lower LearningRate", e.Message);
        Assert.Equal(weightsAfterStep[6], model.Weights());
        Assert.All(model.Weights().Values, w => Assert.All(w, x => Assert.True(float.IsFinite(x))));
    }

    [Fact]
    public void Fit_LearningRateFarTooHigh_FailsWithTheDivergenceError_NotAModelOfNaNs()
    {
        var ml = new Microsoft.ML.MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 4, ["Trouser", "Bag"]));
        var options = new FineTuneImageClassifier.Options
        {
            Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 3, LearningRate = 1e12,
            GradientClipNorm = 0, WarmupFraction = 0,
        };

        var e = Assert.Throws<TrainingDivergedException>(() => ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options).Fit(data));

        Assert.Contains("set GradientClipNorm", e.Message);
    }
}
