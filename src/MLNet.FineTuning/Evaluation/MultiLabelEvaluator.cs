using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Evaluation;

/// <summary>Computes <see cref="MultiLabelMetrics"/> from a scored IDataView or from arrays (the arrays form serves
/// baselines that are not one ML.NET model, such as one binary classifier per label).</summary>
internal static class MultiLabelEvaluator
{
    /// <summary>Reads the label flags (Boolean or Single vector), the scores (Single vector) and the predictions (Boolean
    /// vector) of every row; all three of the label vector's size.</summary>
    public static MultiLabelMetrics Evaluate(IDataView data, string labelColumn, string scoreColumn, string predictedLabelColumn)
    {
        var names = LabelSetColumn.Read(data.Schema, labelColumn);
        int k = names.Length;
        CheckVector(data.Schema, scoreColumn, NumberDataViewType.Single, k, "the probabilities");
        CheckVector(data.Schema, predictedLabelColumn, BooleanDataViewType.Instance, k, "the predicted flags");
        var labels = new List<float[]>();
        var scores = new List<float[]>();
        var predicted = new List<bool[]>();
        using var cursor = data.GetRowCursor([data.Schema[labelColumn], data.Schema[scoreColumn], data.Schema[predictedLabelColumn]]);
        var getLabel = LabelSetColumn.Reader(cursor, data.Schema[labelColumn]);
        var getScore = cursor.GetGetter<VBuffer<float>>(data.Schema[scoreColumn]);
        var getPredicted = cursor.GetGetter<VBuffer<bool>>(data.Schema[predictedLabelColumn]);
        VBuffer<float> score = default;
        VBuffer<bool> flags = default;
        long row = -1;
        while (cursor.MoveNext())
        {
            labels.Add(getLabel(++row));
            getScore(ref score);
            getPredicted(ref flags);
            scores.Add(score.DenseValues().ToArray());
            predicted.Add(flags.DenseValues().ToArray());
        }
        return Compute(names, labels, scores, predicted);
    }

    /// <summary>The figures of <paramref name="predicted"/> (and <paramref name="scores"/>, for the log-loss) against
    /// <paramref name="labels"/> (0/1 flags), one array of K per row.</summary>
    public static MultiLabelMetrics Compute(IReadOnlyList<string> names, IReadOnlyList<float[]> labels, IReadOnlyList<float[]> scores, IReadOnlyList<bool[]> predicted)
    {
        int k = names.Count, n = labels.Count;
        if (scores.Count != n || predicted.Count != n) throw new ArgumentException($"{n} label rows, {scores.Count} score rows and {predicted.Count} prediction rows: one of each per row expected.");
        if (n == 0) throw new ArgumentException("No rows to evaluate.");
        var tp = new int[k];
        var fp = new int[k];
        var fn = new int[k];
        int exact = 0, wrong = 0;
        double logLoss = 0;
        for (int i = 0; i < n; i++)
        {
            bool allRight = true;
            for (int j = 0; j < k; j++)
            {
                bool actual = labels[i][j] > 0.5f, guess = predicted[i][j];
                if (actual && guess) tp[j]++;
                else if (guess) fp[j]++;
                else if (actual) fn[j]++;
                if (actual != guess) { allRight = false; wrong++; }
                double p = scores[i][j];
                logLoss += p is < 0 or > 1 or double.NaN ? double.NaN : -Math.Log(Math.Clamp(actual ? p : 1 - p, 1e-15, 1 - 1e-15));
            }
            if (allRight) exact++;
        }
        var perLabel = Enumerable.Range(0, k).Select(j => Label(names[j], tp[j], fp[j], fn[j])).ToArray();
        var micro = Label("", tp.Sum(), fp.Sum(), fn.Sum());
        return new MultiLabelMetrics
        {
            Rows = n,
            PerLabel = perLabel,
            MicroPrecision = micro.Precision,
            MicroRecall = micro.Recall,
            MicroF1 = micro.F1,
            MacroPrecision = perLabel.Average(l => l.Precision),
            MacroRecall = perLabel.Average(l => l.Recall),
            MacroF1 = perLabel.Average(l => l.F1),
            SubsetAccuracy = (double)exact / n,
            HammingLoss = (double)wrong / ((long)n * k),
            LogLoss = logLoss / ((long)n * k),
        };
    }

    private static LabelMetrics Label(string name, int tp, int fp, int fn)
    {
        double precision = tp + fp == 0 ? 0 : (double)tp / (tp + fp);
        double recall = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        double f1 = 2 * tp + fp + fn == 0 ? 0 : 2.0 * tp / (2 * tp + fp + fn);
        return new LabelMetrics(name, precision, recall, f1, tp + fn);
    }

    private static void CheckVector(DataViewSchema schema, string column, DataViewType itemType, int size, string what)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Column '{column}' ({what}) not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (col.Type is not VectorDataViewType { Size: var s } v || s != size || v.ItemType != itemType)
            throw new ArgumentException($"Column '{column}' ({what}) has type {col.Type}; expected a vector of {size} {itemType}, the label vector's size.");
    }
}
