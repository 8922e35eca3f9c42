using System.Globalization;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>How the report writes numbers: invariant culture, "–" for a share that is not a number.</summary>
internal static class Format
{
    public static string Percent(double v) => double.IsFinite(v) ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + " %" : "–";
    public static string Points(double v) => Math.Abs(100 * v).ToString("0.0", CultureInfo.InvariantCulture);
    public static string Number(double v, string format) => double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
}
