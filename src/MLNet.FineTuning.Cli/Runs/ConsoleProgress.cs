using MLNet.FineTuning.Training;
using Spectre.Console;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>
/// Shows the training loop's reports as they come (synchronously, in order; <see cref="Progress{T}"/> would post them
/// to the thread pool) and keeps them for finetune.json and the report. On a terminal: a live bar over the run's steps
/// (epoch, loss, accuracy, samples/s, time left) and a line per epoch with the validation figures. When the output
/// is redirected (a CI log, a file) or the terminal cannot redraw: plain lines, a few per epoch, that read the same
/// anywhere.
/// </summary>
internal sealed class ConsoleProgress : IProgress<TrainingProgress>
{
    readonly List<TrainingProgress> epochs = [];
    readonly List<(long, double)> rates = [];
    readonly bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
    ProgressTask? bar;

    public IReadOnlyList<TrainingProgress> Epochs => epochs;
    /// <summary>The learning rate at each reported step (the report draws the schedule from it).</summary>
    public IReadOnlyList<(long Step, double Rate)> Rates => rates;

    /// <summary>Runs <paramref name="training"/> under the live bar on a terminal, as it is otherwise.</summary>
    public T Run<T>(Func<T> training)
    {
        if (!live) return training();
        return AnsiConsole.Progress().AutoClear(true).HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                bar = context.AddTask("starting", maxValue: 1);
                try { return training(); }
                finally { bar.StopTask(); bar = null; }
            });
    }

    /// <summary>A line between the reports (above the bar on a terminal).</summary>
    public void Note(string line)
    {
        if (bar == null) Console.WriteLine("  " + line);
        else AnsiConsole.MarkupLine(Markup.Escape("  " + line));
    }

    public void Report(TrainingProgress p)
    {
        if (p.IsEpochEnd) epochs.Add(p);
        if (rates.Count == 0 || rates[^1].Item1 != p.Step) rates.Add((p.Step, p.LearningRate));
        if (bar == null)
        {
            Console.WriteLine((p.IsEpochEnd ? "  = " : "    ") + p);
            return;
        }
        bar.MaxValue = Math.Max(1, p.TotalSteps);
        bar.Value = p.Step;
        bar.Description = Markup.Escape($"epoch {p.Epoch}/{p.Epochs}{(p.BackboneFrozen ? " (head only)" : "")}  loss {p.TrainLoss:F4}  acc {p.TrainAccuracy:P1}  {p.SamplesPerSecond:F0}/s");
        if (p.IsEpochEnd) AnsiConsole.MarkupLine(Markup.Escape("  = " + p));
    }
}
