namespace MLNet.FineTuning.Training;

/// <summary>
/// Training stopped because the loss or the gradient norm stopped being a finite number. Thrown in the step where it
/// appears, before that step updates the weights, so no NaN or infinite weight reaches a checkpoint, an export or the
/// returned model; the message says where it happened and what to change.
/// </summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    internal TrainingDivergedException(string quantity, double value, long step, int epoch, int epochs, double learningRate, string advice)
        : base($"Training diverged at step {step} (epoch {epoch} of {epochs}, learning rate {learningRate:G3}): the {quantity} is {value}. " +
               $"Nothing was saved after the step before. {advice}")
    {
        Quantity = quantity;
        Step = step;
        Epoch = epoch;
        LearningRate = learningRate;
    }

    /// <summary>"loss" or "gradient norm".</summary>
    public string Quantity { get; }

    /// <summary>The optimizer step (1-based, counted over the whole run) whose loss or gradients were not finite.</summary>
    public long Step { get; }

    /// <summary>The epoch (1-based) of that step.</summary>
    public int Epoch { get; }

    /// <summary>The head's learning rate at that step (after warm-up and schedule).</summary>
    public double LearningRate { get; }
}
