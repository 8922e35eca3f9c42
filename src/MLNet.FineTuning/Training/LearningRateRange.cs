namespace MLNet.FineTuning.Training;

/// <summary>One step of a learning-rate range test: the head's rate, the step's loss and its smoothed value.</summary>
public sealed record LearningRatePoint(double LearningRate, double Loss, double SmoothedLoss);

/// <summary>
/// The curve of a learning-rate range test (<c>FindLearningRate</c> on either estimator) and the rate it suggests.
/// The per-step loss is noisy, so the curve is smoothed by an exponential moving average run forwards and then
/// backwards (bias-corrected, β = 0.9 each way): a one-way average, as fastai's <c>lr_find</c> uses (β = 0.98), lags
/// the loss by about β / (1 − β) steps, which over 100 steps spanning 7 decades moves the curve by decades of rate.
/// The backward pass would carry the blown-up losses of the largest rates (tens of times the starting loss) back over
/// the fall before them, so the curve is first cut where it diverges (a running median of 5 steps passes twice its
/// lowest value so far) and only the part before the cut is smoothed for the suggestion.
/// The suggestion is the rate where the smoothed loss falls fastest against log(rate): large enough to learn quickly,
/// still well below the rates where training diverges. The first <see cref="EdgeSteps"/> steps are left out of the
/// suggestion and the minimum: their smoothed values average the fewest steps (the forward average starts at the first
/// raw loss), and on a curve that is noise until a small fall (a regression's batch losses) that edge was the
/// "steepest fall" or the "minimum".
/// </summary>
public sealed class LearningRateRange
{
    private const double Beta = 0.9, StopBeta = 0.98, DivergenceFactor = 4;

    /// <summary>Leading steps that neither the suggestion nor the minimum is taken from. Measured on the suite's range tests
    /// (2026-12-07, `regression --kind text --recipes defaults --seeds 1 --range FILE`): with them, LoRA regressors on
    /// package-sizes and word-valence got 1e-7 and 1.4e-7 (the first two steps) for curves whose one clear fall lies near
    /// 1e-2 and 4e-3; leaving out the first 3, 5, 8 or 10 steps gave 1e-2 and 3.7e-3, and the 14 other curves of the
    /// suite (image and text classifiers, image regressors) the same suggestions as before.</summary>
    internal const int EdgeSteps = 5;

    /// <summary>Every step, in order (rates increase).</summary>
    public IReadOnlyList<LearningRatePoint> Points { get; }

    /// <summary>The rate at the steepest fall of the smoothed loss: set <c>LearningRate</c> to it.</summary>
    public double SuggestedLearningRate { get; }

    /// <summary>The rate at the lowest smoothed loss (the suggestion lies below it).</summary>
    public double MinimumLossLearningRate { get; }

    /// <summary>Whether the test stopped because the smoothed loss rose to 4× its minimum.</summary>
    public bool StoppedAtDivergence { get; }

    /// <summary>Whether the loss fell clearly before the curve diverged: the smoothed minimum lies more than
    /// <see cref="ClearFall"/> standard errors below the mean of the first <see cref="StartSteps"/> losses (the error from the
    /// losses' scatter around the smoothed curve). When false the curve is noise until it blows up, and the suggestion is
    /// where that noise happened to fall fastest: keep a rate you trust instead (the automatic recipe then tries the options'
    /// rate only).</summary>
    public bool LossFellClearly { get; }

    /// <summary>How many standard errors below its start the minimum must lie for <see cref="LossFellClearly"/>. Measured on the
    /// suite's 17 range curves (2026-12-07, seed 1): every image curve fell by 5.1–12.6 standard errors and the text
    /// classifiers' on spam, package sections and languages by 4.0–9.9, while the four LoRA regressors' fell by 0.2–0.6 (their
    /// suggestions 1e-7 to 1e-2 from one shuffle of the rows to the next) and fortune topics' and first names' by 0.8 and
    /// 1.4; the suggestions the automatic recipe tried on those two sets lost to the options' rate by validation every
    /// time (docs/quality.md, "The range test, repaired").</summary>
    public const double ClearFall = 3;

    /// <summary>Leading losses whose mean is the curve's start for <see cref="LossFellClearly"/>.</summary>
    internal const int StartSteps = 10;

    private LearningRateRange(IReadOnlyList<LearningRatePoint> points, double suggested, double minimum, bool diverged, bool fell)
    {
        Points = points;
        SuggestedLearningRate = suggested;
        MinimumLossLearningRate = minimum;
        StoppedAtDivergence = diverged;
        LossFellClearly = fell;
    }

    /// <summary>The checks both estimators' <c>FindLearningRate</c> make, naming the argument at fault.</summary>
    internal static void CheckArguments(int steps, double minLearningRate, double maxLearningRate)
    {
        Check.Range(steps >= 5, nameof(steps), "≥ 5", steps);
        Check.Range(minLearningRate > 0, nameof(minLearningRate), "> 0", minLearningRate);
        Check.Range(maxLearningRate > minLearningRate, nameof(maxLearningRate), $"> minLearningRate ({minLearningRate})", maxLearningRate);
    }

    /// <summary>Bias-corrected exponential moving average, in order.</summary>
    private static double[] Average(IReadOnlyList<double> xs, double beta)
    {
        var smoothed = new double[xs.Count];
        double average = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            average = beta * average + (1 - beta) * xs[i];
            smoothed[i] = average / (1 - Math.Pow(beta, i + 1));
        }
        return smoothed;
    }

    /// <summary>Forwards, then backwards over the result: the two lags cancel.</summary>
    internal static double[] Smooth(IReadOnlyList<double> losses)
    {
        var backwards = Average(Average(losses, Beta).Reverse().ToArray(), Beta);
        Array.Reverse(backwards);
        return backwards;
    }

    /// <summary>The loss is no longer finite, or its running (one-way, as the test goes) average has risen to 4× its
    /// minimum: the rates from here on only blow the weights up.</summary>
    internal static bool Diverged(IReadOnlyList<double> losses)
    {
        if (losses.Count == 0) return false;
        if (!double.IsFinite(losses[^1])) return true;
        var s = Average(losses, StopBeta);
        return losses.Count > 10 && s[^1] > DivergenceFactor * s.Min();
    }

    /// <summary>How many leading steps come before the divergence: the first step (past the fifth) at which the median
    /// of the 5 steps around it is no longer finite or exceeds twice the lowest such median so far; all of them if none.
    /// A median, so that one noisy batch neither cuts the curve nor hides a blow-up.</summary>
    internal static int BeforeDivergence(IReadOnlyList<double> losses)
    {
        double lowest = double.PositiveInfinity;
        for (int i = 0; i < losses.Count; i++)
        {
            var window = Enumerable.Range(Math.Max(0, i - 2), Math.Min(losses.Count, i + 3) - Math.Max(0, i - 2))
                .Select(j => double.IsFinite(losses[j]) ? losses[j] : double.PositiveInfinity).Order().ToArray();
            double median = window[window.Length / 2];
            lowest = Math.Min(lowest, median);
            if (i > 5 && (!double.IsFinite(median) || median > 2 * lowest)) return i;
        }
        return losses.Count;
    }

    /// <summary>Whether <paramref name="minimum"/> lies <see cref="ClearFall"/> standard errors below the mean of the first
    /// <see cref="StartSteps"/> losses; the scatter is that of the losses around the smoothed curve before the cut.</summary>
    private static bool FellClearly(IReadOnlyList<double> losses, double[] smoothed, int cut, double minimum)
    {
        int n = Math.Min(StartSteps, cut);
        if (n < 2 || !double.IsFinite(minimum)) return false;
        double start = losses.Take(n).Average();
        var residuals = Enumerable.Range(0, cut).Select(i => losses[i] - smoothed[i]).Where(double.IsFinite).ToArray();
        double scatter = Math.Sqrt(residuals.Average(r => r * r));
        return start - minimum > ClearFall * scatter / Math.Sqrt(n);
    }

    internal static LearningRateRange From(IReadOnlyList<double> rates, IReadOnlyList<double> losses)
    {
        // Smoothed separately before and after the cut, so that neither part leaks into the other; the suggestion and
        // the minimum come from the part before it.
        int cut = BeforeDivergence(losses);
        var s = Smooth(losses.Take(cut).ToArray()).Concat(cut < losses.Count ? Smooth(losses.Skip(cut).ToArray()) : []).ToArray();
        var points = rates.Select((r, i) => new LearningRatePoint(r, losses[i], s[i])).ToArray();
        // A short curve (a test that diverged within a few steps) keeps at least its last three points before the cut.
        int first = Math.Min(EdgeSteps, Math.Max(0, cut - 3));
        int lowest = Enumerable.Range(first, cut - first).Where(i => double.IsFinite(s[i])).DefaultIfEmpty(first).MinBy(i => s[i]);
        // Steepest fall: the most negative central difference of the smoothed loss over log(rate), up to the
        // minimum (past it the loss only rises). No fall at all: a tenth of the minimum's rate (fastai's older rule
        // of thumb), never below the first rate tried.
        double suggested = Math.Max(rates[0], rates[lowest] / 10);
        double steepest = 0;
        for (int i = Math.Max(1, first); i < Math.Min(lowest + 1, cut - 1); i++)
        {
            double slope = (s[i + 1] - s[i - 1]) / (Math.Log(rates[i + 1]) - Math.Log(rates[i - 1]));
            if (slope < steepest) (steepest, suggested) = (slope, rates[i]);
        }
        return new LearningRateRange(points, suggested, rates[lowest], Diverged(losses), FellClearly(losses, s, cut, s[lowest]));
    }
}
