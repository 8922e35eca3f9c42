using Microsoft.ML.Data;

namespace MLNet.FineTuning.Cli.Evaluation;

/// <summary>What <c>metrics.json</c> says about one regression model: ML.NET's regression metrics.</summary>
internal sealed record RegressionReport(string Model, double RSquared, double RootMeanSquaredError, double MeanAbsoluteError, double MeanSquaredError, double TrainSeconds)
{
    public static RegressionReport From(string model, RegressionMetrics m, double trainSeconds) =>
        new(model, m.RSquared, m.RootMeanSquaredError, m.MeanAbsoluteError, m.MeanSquaredError, trainSeconds);
}
