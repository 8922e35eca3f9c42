namespace MLNet.FineTuning.Training;

/// <summary>How <see cref="FineTuningOptions.BalanceClasses"/> makes rare classes count as much as common ones.</summary>
public enum ClassBalance
{
    /// <summary>Each epoch draws the same number of rows from every class (rare classes' rows repeat, common classes' rows
    /// take turns), every row weighing 1 in the loss.</summary>
    Sampling,
    /// <summary>Each epoch sees every row once and the loss weighs each class by N / (K · its rows) (scikit-learn's
    /// "balanced" class weights).</summary>
    LossWeights,
}
