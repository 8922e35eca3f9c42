namespace MLNet.FineTuning.Training;

/// <summary>The validation figure that early stopping and best-weights selection watch.</summary>
public enum EarlyStoppingMetric
{
    /// <summary>Validation accuracy, higher is better.</summary>
    Accuracy,
    /// <summary>Validation cross-entropy loss, lower is better.</summary>
    Loss,
}
