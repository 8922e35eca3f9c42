namespace MLNet.FineTuning.Training;

/// <summary>
/// Tells a run that learned nothing from one that learned little. At too high a rate (LoRA adapters on every linear
/// layer at about 1e-2, docs/quality.md "Regression") the network stops carrying information from its input within an
/// epoch, and the model answers the same for every row: the mean of a regression's targets, the largest class of a
/// classifier. Nothing fails and the loss stays finite, so without this the user finds out from the metrics, if at
/// all. The sign is the training loss: no epoch gets clearly below what the best constant answer costs.
/// </summary>
internal static class LearningCheck
{
    /// <summary>A run whose best epoch's training loss is above this share of the constant answer's learned nothing.
    /// Measured on the suite (2026-12-05): such runs stayed at 1.00–1.14 of it; the runs that learned were below 0.93
    /// after their first epoch (package-sizes, held-out R² 0.01–0.06: 0.90–0.93; word-valence 0.60).</summary>
    public const double Share = 0.98;

    /// <summary>A head rate below this (a tenth of the lowest default, the image estimators' 1e-3) more likely learned
    /// nothing for lack of steps than for too large ones: a 1-epoch run at 1e-5 on package-sizes (LoRA regressor, 800
    /// rows) ended at exactly the constant answer's loss, 1.000 (2026-12-07, the automatic recipe's range-test candidate).</summary>
    public const double LowRate = 1e-4;

    /// <summary>A warning for a run that learned nothing, or null. <paramref name="constantAnswerLoss"/> is null where the
    /// loss is not comparable with it (mixing, a task that cannot say); with class weights or label smoothing it is that
    /// loss's constant (<see cref="ClassificationTask.ConstantAnswerLoss"/>).</summary>
    public static string? Warning(TrainingResult result, double? constantAnswerLoss, FineTuningOptions o, bool regression)
    {
        if (constantAnswerLoss is not double constant || constant <= 0 || result.Epochs.Count == 0) return null;
        double best = result.Epochs.Min(e => e.TrainLoss);
        if (!(best >= Share * constant)) return null;
        string answer = regression ? "the training mean for every row"
            : o.WeightsClasses ? "the same class probabilities for every row (the best such answer under the class weights)"
            : o.SamplesClassesEvenly ? "every class equally likely for every row (the classes are drawn evenly)"
            : o.LabelSmoothing > 0 ? "the training rows' class frequencies, smoothed as the targets are, for every row"
            : "the training rows' class frequencies for every row";
        return $"Training did not learn: its best epoch's training loss ({best:F3}) is no lower than answering {answer} " +
               $"({constant:F3}), so the model gives about the same answer whatever the input. The usual cause is a learning rate " +
               $"too high for the network (head {o.LearningRate:G3}, backbone or adapters {o.LearningRate * o.BackboneLearningRateFactor:G3}): " +
               $"lower LearningRate or BackboneLearningRateFactor and train again." +
               (o.LearningRate < LowRate ? $" At a head rate below {LowRate:G1} the other cause is likelier: too little training to move the " +
                                           "new head (raise LearningRate or Epochs)." : "") +
               (o.WeightsClasses ? " BalanceClasses by loss weights makes each row of a rare class count as much as many rows of a common one, " +
                                   "which raises the steps those rows take: a lower rate, BalanceClassesBy = Sampling, or BalanceClasses off, avoids it." : "");
    }
}
