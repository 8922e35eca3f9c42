using Microsoft.ML;

namespace MLNet.FineTuning.Training;

/// <summary>Which rows train and which validate: <c>ValidationSet</c> when given, else a seeded
/// <c>ValidationFraction</c> of the input (ML.NET's TrainTestSplit), else none, except that the automatic recipe
/// (<c>TimeBudget</c>) needs validation and holds out <see cref="AutomaticFraction"/> itself.</summary>
internal static class ValidationSplit
{
    /// <summary>The share of the rows the automatic recipe validates on when no validation data is given (ML.NET's
    /// TrainTestSplit default is 0.1; a fifth gives a steadier ranking on the small data sets fine-tuning sees).</summary>
    public const double AutomaticFraction = 0.2;

    /// <summary>Whether the automatic recipe holds out its own validation rows (none given), so that its final run
    /// can train on all of them.</summary>
    public static bool HoldsOutAutomatically(FineTuningOptions options) =>
        options.TimeBudget != null && options.ValidationSet == null && options.ValidationFraction <= 0;

    public static (IDataView Train, IDataView? Validation) Apply(MLContext ml, FineTuningOptions options, IDataView input)
    {
        if (options.ValidationSet != null) return (input, options.ValidationSet);
        double fraction = options.ValidationFraction > 0 ? options.ValidationFraction : options.TimeBudget != null ? AutomaticFraction : 0;
        if (fraction <= 0) return (input, null);
        var split = ml.Data.TrainTestSplit(input, fraction, seed: options.Seed);
        return (split.TrainSet, split.TestSet);
    }
}
