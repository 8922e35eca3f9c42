using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Evaluation;

namespace MLNet.FineTuning.Tests.MultiLabel;

/// <summary>What the multi-label tests share: the user's way from a text column of tags to the label vector, and the
/// figure a model must beat.</summary>
internal static class LabelSets
{
    /// <summary>Tags separated by ';' → a Single vector of 0/1 flags named by the tags (ML.NET's own transforms: words
    /// split on ';', then a bag of them), fitted on <paramref name="train"/>.</summary>
    public static ITransformer TagsToLabel(MLContext ml, IDataView train, string tagsColumn, string labelColumn = "Label") =>
        ml.Transforms.Text.TokenizeIntoWords("TagWords", tagsColumn, separators: [';'])
            .Append(ml.Transforms.Categorical.OneHotEncoding(labelColumn, "TagWords", Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Bag))
            .Append(ml.Transforms.DropColumns("TagWords"))
            .Fit(train);

    /// <summary>
    /// The best micro-F1 any constant answer reaches on <paramref name="labels"/> (the same label set for every row, the
    /// set chosen with the test rows' own counts): what a model that learned nothing from the inputs can score at most.
    /// Predicting label j on every row adds n to the predicted count and its positives to the true positives, so the best
    /// set takes the labels in order of frequency; every prefix is tried.
    /// </summary>
    public static double BestConstantMicroF1(IReadOnlyList<float[]> labels)
    {
        int k = labels[0].Length, n = labels.Count;
        var positives = Enumerable.Range(0, k).Select(j => labels.Count(r => r[j] > 0)).OrderByDescending(p => p).ToArray();
        int total = positives.Sum();
        double best = 0;
        for (int m = 1, tp = 0; m <= k; m++)
        {
            tp += positives[m - 1];
            best = Math.Max(best, 2.0 * tp / ((double)m * n + total));
        }
        return best;
    }

    public static float[][] Flags(IDataView data, string column = "Label") =>
        data.GetColumn<float[]>(column).Select(v => v.ToArray()).ToArray();

    public static string Describe(MultiLabelMetrics m) =>
        $"micro F1 {m.MicroF1:F3} (P {m.MicroPrecision:F3}, R {m.MicroRecall:F3}), macro F1 {m.MacroF1:F3}, exact {m.SubsetAccuracy:F3}, " +
        $"Hamming {m.HammingLoss:F3}, log-loss {m.LogLoss:F3}";
}
