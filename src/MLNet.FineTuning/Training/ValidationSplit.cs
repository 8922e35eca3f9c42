using Microsoft.ML;

namespace MLNet.FineTuning.Training;

/// <summary>Which rows train and which validate: <c>ValidationSet</c> when given, else a seeded
/// <c>ValidationFraction</c> of the input (ML.NET's TrainTestSplit), else none.</summary>
internal static class ValidationSplit
{
    public static (IDataView Train, IDataView? Validation) Apply(MLContext ml, FineTuningOptions options, IDataView input)
    {
        if (options.ValidationSet != null) return (input, options.ValidationSet);
        if (options.ValidationFraction <= 0) return (input, null);
        var split = ml.Data.TrainTestSplit(input, options.ValidationFraction, seed: options.Seed);
        return (split.TrainSet, split.TestSet);
    }
}
