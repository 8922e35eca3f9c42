namespace MLNet.FineTuning.Training;

/// <summary>What both multi-label classifiers' options add: how each label's probability becomes a yes or no.</summary>
public interface ILabelSetSettings
{
    /// <summary>The probability at which a label is predicted when its threshold is not chosen on validation rows. Default 0.5.</summary>
    double Threshold { get; }

    /// <summary>Choose each label's threshold on the validation rows (the one with the best F1 for that label; labels with
    /// fewer than 5 positive validation rows keep <see cref="Threshold"/>); without validation data every label keeps
    /// <see cref="Threshold"/>. Default false: on package-tags (README, "Several labels at once") thresholds chosen on 200
    /// validation rows cost 1.9 points of micro F1 and 5 of exact match against ½ for 1.3 points of macro F1.</summary>
    bool ChooseThresholds { get; }
}
