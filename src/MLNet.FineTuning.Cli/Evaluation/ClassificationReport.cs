using Microsoft.ML.Data;

namespace MLNet.FineTuning.Cli.Evaluation;

/// <summary>One class's figures on the evaluated rows.</summary>
internal sealed record ClassFigures(string Class, int Support, double Precision, double Recall, double F1);

/// <summary>
/// What <c>metrics.json</c> says about one model: ML.NET's multiclass metrics, per-class precision, recall and
/// F1, and the confusion matrix (rows: true class, columns: predicted class, both in <see cref="Classes"/> order).
/// </summary>
internal sealed record ClassificationReport(
    string Model, double MicroAccuracy, double MacroAccuracy, double LogLoss, IReadOnlyList<string> Classes,
    IReadOnlyList<ClassFigures> PerClass, IReadOnlyList<IReadOnlyList<int>> ConfusionMatrix, double TrainSeconds)
{
    /// <summary>Builds the report from ML.NET's metrics; <paramref name="classes"/> are the label keys' values in key order.</summary>
    public static ClassificationReport From(string model, MulticlassClassificationMetrics m, IReadOnlyList<string> classes, double trainSeconds)
    {
        var counts = m.ConfusionMatrix.Counts;
        int k = classes.Count;
        var matrix = new int[k][];
        for (int t = 0; t < k; t++)
        {
            matrix[t] = new int[k];
            for (int p = 0; p < k && t < counts.Count; p++) matrix[t][p] = p < counts[t].Count ? (int)counts[t][p] : 0;
        }
        var perClass = new List<ClassFigures>(k);
        for (int c = 0; c < k; c++)
        {
            int support = matrix[c].Sum(), predicted = matrix.Sum(row => row[c]), hit = matrix[c][c];
            double precision = predicted == 0 ? 0 : (double)hit / predicted, recall = support == 0 ? 0 : (double)hit / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            perClass.Add(new ClassFigures(classes[c], support, precision, recall, f1));
        }
        return new ClassificationReport(model, m.MicroAccuracy, m.MacroAccuracy, m.LogLoss, classes, perClass, matrix, trainSeconds);
    }
}
