namespace MLNet.FineTuning.Training;

/// <summary>
/// Each label's decision threshold on its probability (sigmoid of its logit) for a multi-label classifier: the one that
/// maximises that label's F1 on the validation rows, as multi-label practice tunes it (one threshold for all labels
/// suits none of them when the labels' frequencies differ: a rare label's probabilities rarely reach ½). A label with fewer
/// than <see cref="MinimumPositives"/> positive validation rows keeps the default: a threshold fitted to two or three rows
/// follows their noise. Between two neighbouring probabilities the midpoint is taken, and among equal F1 the threshold
/// nearest the default, so a threshold does not sit on one validation row's probability.
/// </summary>
internal static class LabelThresholds
{
    /// <summary>Positive validation rows a label needs before its threshold is fitted.</summary>
    public const int MinimumPositives = 5;

    /// <summary>The thresholds the options ask for: chosen on the validation outputs, or the fixed one; logged.</summary>
    public static float[] For(ILabelSetSettings settings, TrainingResult result, IReadOnlyList<string> labelNames, Microsoft.ML.Runtime.IChannel log)
    {
        var thresholds = settings.ChooseThresholds
            ? Choose(result.ValidationOutputs, labelNames.Count, (float)settings.Threshold)
            : Enumerable.Repeat((float)settings.Threshold, labelNames.Count).ToArray();
        log.Info(Microsoft.ML.Runtime.MessageSensitivity.None, "label thresholds" +
            (settings.ChooseThresholds && result.ValidationOutputs != null ? " (best F1 on the validation rows)" : "") + ": " +
            string.Join(", ", labelNames.Select((n, k) => $"{n} {thresholds[k]:F2}")));
        return thresholds;
    }

    /// <summary>The K thresholds from <paramref name="validation"/> (logits and 0/1 flags, row-major), or
    /// <paramref name="defaultThreshold"/> for every label when there are no validation outputs.</summary>
    public static float[] Choose(RowOutputs? validation, int labelCount, float defaultThreshold)
    {
        var thresholds = Enumerable.Repeat(defaultThreshold, labelCount).ToArray();
        if (validation is not { Rows: > 0 } v) return thresholds;
        if (v.Width != labelCount || v.LabelWidth != labelCount)
            throw new InvalidOperationException($"Validation outputs have {v.Width} outputs and {v.LabelWidth} flags per row; expected {labelCount}.");
        for (int k = 0; k < labelCount; k++)
        {
            var column = Enumerable.Range(0, v.Rows)
                .Select(i => (P: 1 / (1 + MathF.Exp(-v.Outputs[i * labelCount + k])), Positive: v.Labels[i * labelCount + k] > 0.5f))
                .OrderByDescending(x => x.P).ToArray();
            int positives = column.Count(x => x.Positive);
            if (positives >= MinimumPositives) thresholds[k] = BestF1(column, positives, defaultThreshold);
        }
        return thresholds;
    }

    /// <summary>Walks the rows from the most probable down: predicting the first j positive gives j's F1; the threshold
    /// is the midpoint between row j's and row j+1's probability.</summary>
    private static float BestF1((float P, bool Positive)[] sorted, int positives, float defaultThreshold)
    {
        double bestF1 = -1;
        float best = defaultThreshold;
        int truePositives = 0;
        for (int j = 0; j < sorted.Length; j++)
        {
            if (sorted[j].Positive) truePositives++;
            if (j + 1 < sorted.Length && sorted[j + 1].P == sorted[j].P) continue;   // equal probabilities fall on one side together
            double f1 = 2.0 * truePositives / (j + 1 + positives);
            float threshold = j + 1 < sorted.Length ? (sorted[j].P + sorted[j + 1].P) / 2 : sorted[j].P / 2;
            if (f1 > bestF1 + 1e-12 || (Math.Abs(f1 - bestF1) <= 1e-12 && Math.Abs(threshold - defaultThreshold) < Math.Abs(best - defaultThreshold)))
                (bestF1, best) = (f1, threshold);
        }
        return best;
    }
}
