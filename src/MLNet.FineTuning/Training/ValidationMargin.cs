namespace MLNet.FineTuning.Training;

/// <summary>
/// How far a challenger's validation accuracy must lead the options as given's before the automatic recipe takes it
/// (<see cref="RecipeSearch{TOptions, TModel}"/>): one standard error of the difference of the two accuracies, measured on
/// the same held-out rows (Breiman's one-standard-error rule, with the suite's defaults in the place of the simplest
/// model). The rows are paired: two trials that start from the same weights and seed get most rows alike, and only
/// the rows they disagree on say which is better. So the error is that of the mean of the per-row differences
/// d = hit(challenger) − hit(given), each −1, 0 or 1: √(s²/n), s² their sample variance. A lead of k rows with none the
/// other way has an error of about √k / n: it clears the margin from two rows on, where the unpaired √(p(1−p)/n) asked
/// for √(p(1−p)n) rows whatever the disagreement (5.2 of 110 at p = 0.6; docs/quality.md, "A paired margin").
/// </summary>
internal static class ValidationMargin
{
    /// <summary>The margin for a run validated by <paramref name="metric"/> on <paramref name="rows"/> held-out rows; null
    /// for a loss, whose spread this does not know, and without held-out rows.</summary>
    public static Func<TrainingResult, TrainingResult, double>? For(EarlyStoppingMetric metric, int rows) =>
        metric != EarlyStoppingMetric.Accuracy || rows <= 0 ? null
        : (challenger, given) => challenger.ValidationHits is { } c && given.ValidationHits is { } g && c.Count == g.Count && c.Count > 1
            ? Paired(c, g)
            : Unpaired(given.BestMetric ?? double.NaN, rows);   // a run without per-row hits (resumed past its best epoch)

    /// <summary>The standard error of mean(a) − mean(b) over rows both were scored on, in the same order.</summary>
    public static double Paired(IReadOnlyList<bool> a, IReadOnlyList<bool> b)
    {
        if (a.Count != b.Count || a.Count < 2) throw new ArgumentException($"Paired hits need the same rows, at least two: {a.Count} and {b.Count}.");
        int n = a.Count, ahead = 0, behind = 0;
        for (int i = 0; i < n; i++)
            if (a[i] != b[i]) { if (a[i]) ahead++; else behind++; }
        double mean = (double)(ahead - behind) / n;
        double variance = (ahead + behind - n * mean * mean) / (n - 1);
        return Math.Sqrt(Math.Max(0, variance) / n);
    }

    /// <summary>The standard error of an accuracy <paramref name="p"/> on <paramref name="rows"/> rows, √(p(1−p)/n): what
    /// the difference of two accuracies on the same rows spreads by when their hits correlate by ½.</summary>
    public static double Unpaired(double p, int rows)
    {
        if (double.IsNaN(p)) return 0;
        double q = Math.Clamp(p, 0, 1);
        return Math.Sqrt(q * (1 - q) / rows);
    }
}
