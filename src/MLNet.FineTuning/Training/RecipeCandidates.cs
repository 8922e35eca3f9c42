namespace MLNet.FineTuning.Training;

/// <summary>Helpers the estimators share when they list the automatic recipe's candidates.</summary>
internal static class RecipeCandidates
{
    /// <summary>Steps of the automatic recipe's range test: fastai's 100, but no more than two passes over the data
    /// (with fewer rows the test would cost more than the trials it serves), and at least 30 for a usable curve.</summary>
    public static int RangeTestSteps(long rows, int batchSize) => (int)Math.Clamp(2 * ((rows + batchSize - 1) / batchSize), 30, 100);

    /// <summary>The rates every modality's search tries: the options' own first (so that a tie keeps it), then the range
    /// test's suggestion, <see cref="Rounded"/>; the options' rate alone when the two agree or when there is no
    /// suggestion (a range test whose loss did not fall clearly).</summary>
    public static IEnumerable<double> Rates(double given, double? suggested) =>
        suggested is double s ? new[] { given, Rounded(s) }.Distinct() : [given];

    /// <summary>A suggested rate to two significant digits and within [1e-5, 1e-1]: the range test's figure is noisy past
    /// that, and rates outside the range are never what a fine-tuning run of a few epochs wants.</summary>
    public static double Rounded(double rate)
    {
        double clamped = Math.Clamp(rate, 1e-5, 1e-1);
        // Divided by a power of ten (exact in a double up to 1e22), the two digits land on the double nearest their
        // decimal: 10 × 1e-6 gives 9.999999999999999e-6, 10 / 1e6 gives 1e-5.
        double perUnit = Math.Pow(10, 1 - Math.Floor(Math.Log10(clamped)));
        return Math.Round(clamped * perUnit) / perUnit;
    }
}
