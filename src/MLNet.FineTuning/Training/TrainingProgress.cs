namespace MLNet.FineTuning.Training;

/// <summary>What the training loop reports: every <c>LogEveryNSteps</c> steps (<see cref="IsEpochEnd"/> false)
/// and at the end of each epoch (true, with validation figures when there is a validation set).</summary>
public sealed record TrainingProgress
{
    /// <summary>Epoch, 1-based.</summary>
    public int Epoch { get; init; }
    /// <summary>Total epochs planned.</summary>
    public int Epochs { get; init; }
    /// <summary>Optimizer steps done in this run so far (counting resumed steps).</summary>
    public long Step { get; init; }
    /// <summary>Total optimizer steps planned.</summary>
    public long TotalSteps { get; init; }
    /// <summary>Mean training loss since the last report (or over the epoch at its end).</summary>
    public double TrainLoss { get; init; }
    /// <summary>Training accuracy over the same batches (on augmented inputs).</summary>
    public double TrainAccuracy { get; init; }
    /// <summary>Head learning rate now.</summary>
    public double LearningRate { get; init; }
    /// <summary>Training samples per second since the last step report; at the epoch end, over the epoch's
    /// training steps (validation not included).</summary>
    public double SamplesPerSecond { get; init; }
    /// <summary>Estimated time left.</summary>
    public TimeSpan EstimatedTimeLeft { get; init; }
    /// <summary>true when the backbone is frozen (head-only epochs).</summary>
    public bool BackboneFrozen { get; init; }
    /// <summary>true for the end-of-epoch report.</summary>
    public bool IsEpochEnd { get; init; }
    /// <summary>Validation loss at the end of the epoch, if there is a validation set.</summary>
    public double? ValidationLoss { get; init; }
    /// <summary>Validation accuracy at the end of the epoch, if there is a validation set.</summary>
    public double? ValidationAccuracy { get; init; }

    /// <summary>One log line.</summary>
    public override string ToString()
    {
        // A task without accuracy (regression, multi-label) reports it as NaN: left out of the line.
        static string Accuracy(double a) => double.IsNaN(a) ? "" : $" acc {a:P1}";
        var s = $"epoch {Epoch}/{Epochs} step {Step}/{TotalSteps}{(BackboneFrozen ? " (head only)" : "")}: " +
                $"loss {TrainLoss:F4}{Accuracy(TrainAccuracy)} lr {LearningRate:G3} {SamplesPerSecond:F1} samples/s ETA {EstimatedTimeLeft:hh\\:mm\\:ss}";
        if (ValidationLoss is double vl) s += $" | validation loss {vl:F4}{Accuracy(ValidationAccuracy ?? double.NaN)}";
        return s;
    }
}
