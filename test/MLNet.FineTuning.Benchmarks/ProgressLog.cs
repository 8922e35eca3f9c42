using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>Collects the training loop's progress reports synchronously, on the training thread (unlike
/// <see cref="Progress{T}"/>, which posts to the thread pool), and can run a callback at each one.</summary>
internal sealed class ProgressLog : IProgress<TrainingProgress>
{
    private readonly Action<TrainingProgress>? onReport;

    public ProgressLog(Action<TrainingProgress>? onReport = null) => this.onReport = onReport;

    public List<TrainingProgress> Steps { get; } = [];
    public List<TrainingProgress> EpochEnds { get; } = [];

    public void Report(TrainingProgress value)
    {
        (value.IsEpochEnd ? EpochEnds : Steps).Add(value);
        onReport?.Invoke(value);
    }

    /// <summary>Images per second of the training phase from the per-step reports (LogEveryNSteps = 1): every
    /// report covers one step, whose image count the batch ranges give.</summary>
    public double StepImagesPerSecond(IReadOnlyList<int> imagesPerStep, int skipFirst = 0)
    {
        double images = 0, seconds = 0;
        for (int i = skipFirst; i < Steps.Count && i < imagesPerStep.Count; i++)
        {
            images += imagesPerStep[i];
            seconds += imagesPerStep[i] / Steps[i].SamplesPerSecond;
        }
        return images / seconds;
    }

    /// <summary>Seconds of each step, from its report.</summary>
    public double[] StepSeconds(IReadOnlyList<int> imagesPerStep) =>
        Steps.Select((s, i) => imagesPerStep[Math.Min(i, imagesPerStep.Count - 1)] / s.SamplesPerSecond).ToArray();
}
