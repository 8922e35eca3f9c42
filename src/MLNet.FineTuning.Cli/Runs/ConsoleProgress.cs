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
    readonly ProgressHistory history;
    readonly string? historyFile;
    readonly bool live = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive && AnsiConsole.Profile.Capabilities.Ansi;
    ProgressTask? bar;

    /// <param name="historyFile">Where the reports so far are kept at each epoch end; with <paramref name="resumed"/>, the
    /// stopped run's reports are read from it first, so that <see cref="Epochs"/> and <see cref="Rates"/> cover the
    /// whole run.</param>
    public ConsoleProgress(string? historyFile = null, bool resumed = false)
    {
        this.historyFile = historyFile;
        history = resumed && historyFile != null ? ProgressHistory.Load(historyFile) : ProgressHistory.Empty();
        ResumedWithHistory = resumed && history.Epochs.Count > 0;
    }

    public IReadOnlyList<TrainingProgress> Epochs => history.Epochs;
    /// <summary>The learning rate at each reported step (the report draws the schedule from it).</summary>
    public IReadOnlyList<(long Step, double Rate)> Rates => [.. history.Rates.Select(r => (r.Step, r.Rate))];
    /// <summary>Whether the stopped run's epochs were read back (the curves cover the whole run).</summary>
    public bool ResumedWithHistory { get; }

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
        history.Add(p);
        if (p.IsEpochEnd && historyFile != null) history.Save(historyFile);
        if (bar == null)
        {
            Console.WriteLine((p.IsEpochEnd ? "  = " : "    ") + p);
            return;
        }
        bar.MaxValue = Math.Max(1, p.TotalSteps);
        bar.Value = p.Step;
        bar.Description = Markup.Escape($"epoch {p.Epoch}/{p.Epochs}{(p.BackboneFrozen ? " (head only)" : "")}  loss {p.TrainLoss:F4}{(double.IsNaN(p.TrainAccuracy) ? "" : $"  acc {p.TrainAccuracy:P1}")}  {p.SamplesPerSecond:F0}/s");
        if (p.IsEpochEnd) AnsiConsole.MarkupLine(Markup.Escape("  = " + p));
    }
}
