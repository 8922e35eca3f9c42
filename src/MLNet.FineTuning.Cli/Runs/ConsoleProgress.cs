using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// Prints the training loop's reports as they come (synchronously, in order; <see cref="Progress{T}"/> would post
/// them to the thread pool): a line every few steps and one per epoch with the validation figures. Plain lines,
/// so that a redirected output (a CI log) reads the same as a terminal.
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    readonly List<TrainingProgress> epochs = [];
    readonly List<(long, double)> rates = [];
    public IReadOnlyList<TrainingProgress> Epochs => epochs;
    /// <summary>The learning rate at each reported step (the report draws the schedule from it).</summary>
    public IReadOnlyList<(long Step, double Rate)> Rates => rates;

    public void Report(TrainingProgress p)
    {
        if (p.IsEpochEnd) epochs.Add(p);
        if (rates.Count == 0 || rates[^1].Item1 != p.Step) rates.Add((p.Step, p.LearningRate));
        Console.WriteLine((p.IsEpochEnd ? "  = " : "    ") + p);
    }
}
