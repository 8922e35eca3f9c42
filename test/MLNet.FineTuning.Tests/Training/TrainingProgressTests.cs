using Microsoft.ML;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class TrainingProgressTests
{
    /// <summary>Collects reports on the training thread (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Reports : IProgress<TrainingProgress>
    {
        public List<TrainingProgress> All { get; } = [];
        public void Report(TrainingProgress value) => All.Add(value);
    }

    [Fact]
    public void Fit_ReportEveryStep_EpochEndThroughputCoversTheWholeEpoch()
    {
        // The epoch-end figure used to divide the epoch's samples by the time since the last step report only:
        // with a report every step that is almost no time, and the figure came out thousands of times too high.
        var ml = new MLContext(seed: 1);
        var train = TestData.Load(ml, TestData.Fashion("train", 8, "Trouser", "Bag"));
        var reports = new Reports();
        var est = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            Epochs = 1, BatchSize = 8, ImageSize = 32, UsePretrainedWeights = false, Backbone = "resnet18",
            LogEveryNSteps = 1, Progress = reports,
        });
        using var model = est.Fit(train);

        var steps = reports.All.Where(r => !r.IsEpochEnd).ToArray();
        var end = Assert.Single(reports.All, r => r.IsEpochEnd);
        Assert.Equal(2, steps.Length);
        double stepSeconds = steps.Sum(s => 8 / s.SamplesPerSecond);   // the step windows tile the epoch
        double expected = 16 / stepSeconds;
        Assert.InRange(end.SamplesPerSecond, 0.5 * expected, 1.01 * expected);
    }
}
