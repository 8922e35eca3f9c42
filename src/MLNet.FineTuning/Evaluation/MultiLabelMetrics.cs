namespace MLNet.FineTuning;

/// <summary>One label's figures over the evaluated rows.</summary>
/// <param name="Name">The label's name (the label vector's slot name, or its index).</param>
/// <param name="Precision">Rows predicted with the label that have it (0 when none is predicted).</param>
/// <param name="Recall">Rows with the label that are predicted with it (0 when no row has it).</param>
/// <param name="F1">The harmonic mean of the two (0 when both are 0).</param>
/// <param name="Support">Rows that have the label.</param>
public sealed record LabelMetrics(string Name, double Precision, double Recall, double F1, int Support);

/// <summary>
/// A multi-label classifier's figures (ML.NET has no multi-label evaluator), as scikit-learn defines them: micro figures
/// count every (row, label) decision once, so frequent labels weigh more; macro figures average the labels' own, so each
/// label weighs the same; a rate with an empty denominator counts 0.
/// </summary>
public sealed record MultiLabelMetrics
{
    /// <summary>Evaluated rows.</summary>
    public required int Rows { get; init; }
    /// <summary>Per label, in the label vector's order.</summary>
    public required IReadOnlyList<LabelMetrics> PerLabel { get; init; }
    /// <summary>True positives over predicted positives, over all labels.</summary>
    public required double MicroPrecision { get; init; }
    /// <summary>True positives over actual positives, over all labels.</summary>
    public required double MicroRecall { get; init; }
    /// <summary>The harmonic mean of <see cref="MicroPrecision"/> and <see cref="MicroRecall"/>.</summary>
    public required double MicroF1 { get; init; }
    /// <summary>The mean of the labels' precision.</summary>
    public required double MacroPrecision { get; init; }
    /// <summary>The mean of the labels' recall.</summary>
    public required double MacroRecall { get; init; }
    /// <summary>The mean of the labels' F1.</summary>
    public required double MacroF1 { get; init; }
    /// <summary>Rows whose predicted label set equals the actual one exactly (exact-match ratio).</summary>
    public required double SubsetAccuracy { get; init; }
    /// <summary>Wrong (row, label) decisions over all of them.</summary>
    public required double HammingLoss { get; init; }
    /// <summary>Mean binary cross-entropy of the scores (natural log, probabilities clipped to [1e-15, 1 − 1e-15]); NaN
    /// when a score lies outside [0, 1] (then the scores are not probabilities).</summary>
    public required double LogLoss { get; init; }
}
