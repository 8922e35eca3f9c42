namespace MLNet.FineTuning.Cli.Report;

/// <summary>An evaluated row the model got most wrong: the lowest probability on its true class.</summary>
internal sealed record WorstExample(ReportCell Input, string TrueLabel, string PredictedLabel, double TrueProbability, double PredictedProbability)
{
    /// <summary>The <paramref name="count"/> rows with the lowest probability on their true class, misclassified ones only.</summary>
    /// <param name="scores">Each row's probabilities in <paramref name="classes"/> order.</param>
    public static IReadOnlyList<WorstExample> Pick<TRow>(IReadOnlyList<TRow> rows, IReadOnlyList<float[]> scores, Func<TRow, string> label,
                                                         IReadOnlyList<string> classes, Func<TRow, ReportCell> input, int count)
    {
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        return [.. rows.Select((row, i) => (row, score: scores[i], truth: index[label(row)]))
            .Select(x => (x.row, x.score, x.truth, predicted: ArgMax(x.score)))
            .Where(x => x.predicted != x.truth)
            .OrderBy(x => x.score[x.truth])
            .Take(count)
            .Select(x => new WorstExample(input(x.row), classes[x.truth], classes[x.predicted], x.score[x.truth], x.score[x.predicted]))];
    }

    static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
