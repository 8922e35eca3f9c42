namespace MLNet.FineTuning.Training;

/// <summary>What both multi-label classifiers' options add: how each label's probability becomes a yes or no.</summary>
public interface ILabelSetSettings
{
    /// <summary>The probability at which a label is predicted when its threshold is not chosen on validation rows. Default 0.5.</summary>
    double Threshold { get; }

    /// <summary>Choose each label's threshold on the validation rows (the one with the best F1 for that label; labels with
    /// fewer than 5 positive validation rows keep <see cref="Threshold"/>). Default true; without validation data every
    /// label keeps <see cref="Threshold"/>.</summary>
    bool ChooseThresholds { get; }
}
