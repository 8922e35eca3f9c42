namespace MLNet.FineTuning.Cli.Evaluation;

/// <summary>What <c>metrics.json</c> says about one multi-label model: the library's multi-label metrics
/// (<c>mlContext.MultiLabelClassification().Evaluate</c>; ML.NET has none) and each label's threshold.</summary>
internal sealed record LabelSetReport(string Model, double MicroF1, double MacroF1, double MicroPrecision, double MicroRecall,
    double SubsetAccuracy, double HammingLoss, double LogLoss, IReadOnlyList<LabelMetrics> PerLabel, IReadOnlyList<float>? Thresholds, double TrainSeconds)
{
    public static LabelSetReport From(string model, MultiLabelMetrics m, IReadOnlyList<float>? thresholds, double trainSeconds) =>
        new(model, m.MicroF1, m.MacroF1, m.MicroPrecision, m.MicroRecall, m.SubsetAccuracy, m.HammingLoss, m.LogLoss, m.PerLabel, thresholds, trainSeconds);
}
