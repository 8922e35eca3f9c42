using System.Globalization;
using System.Text;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// Turns run results into the tables of docs/quality.md: per profile, device and kind, one row per recipe and one
/// column per data set, each cell the mean ± sample standard deviation over seeds, then the mean gain over the
/// baseline and how many data sets beat it by the margin the issue sets (images 1 point, text 2 points).
/// The tables go between two marker lines; the prose around them is left as it is.
/// </summary>
internal static class QualityReport
{
    public const string Begin = "<!-- quality-suite:begin (written by test/MLNet.FineTuning.Quality report) -->";
    public const string End = "<!-- quality-suite:end -->";

    public static string Render(IReadOnlyList<RunResult> results)
    {
        var sb = new StringBuilder();
        // The newest result of a run wins (a rerun replaces an old line).
        var latest = results.GroupBy(r => r.Key).Select(g => g.Last()).ToList();
        // One table per profile, kind and fine-tuning device; the baseline (ML.NET's CPU trainers) joins every table of its profile.
        var tuned = latest.Where(r => r.Recipe != Recipe.Baseline).ToList();
        foreach (var group in tuned.GroupBy(r => (r.Profile, r.Device, r.Kind)).OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.Profile).ThenBy(g => g.Key.Device))
        {
            var runs = group.Concat(latest.Where(r => r.Recipe == Recipe.Baseline && r.Profile == group.Key.Profile && r.Kind == group.Key.Kind)).ToList();
            var dataSets = SuiteDataSet.All.Select(d => d.Name).Where(n => runs.Any(r => r.DataSet == n)).ToList();
            var recipes = runs.Select(r => r.Recipe).Distinct()
                .OrderBy(r => r == Recipe.Baseline ? 0 : r == Recipe.LightGbmBaseline ? 1 : r == Recipe.Defaults ? 2 : 3).ToList();
            double margin = group.Key.Kind == "image" ? 1 : 2;
            string precisions = string.Join(", ", group.Select(r => r.Precision).Distinct());
            sb.AppendLine($"### {group.Key.Kind} data sets, {group.Key.Profile} profile, fine-tuned on {group.Key.Device} ({precisions})");
            sb.AppendLine();
            sb.AppendLine(Describe(runs, dataSets));
            sb.AppendLine();
            var metrics = new List<(string, Func<RunResult, double>)> { ("accuracy (micro)", r => r.MicroAccuracy), ("macro accuracy", r => r.MacroAccuracy) };
            // Runs from before the shifted copies existed have none: their cells show "–".
            if (runs.Any(r => r.ShiftedMicroAccuracy != null))
                metrics.Add(("accuracy (micro) on the shifted test copy (ShiftedTestSet: images with half the contrast and noise, texts with dropped words and typos)",
                             r => r.ShiftedMicroAccuracy ?? double.NaN));
            foreach (var (metric, pick) in metrics)
            {
                sb.AppendLine($"**{metric}**, % (mean ± sd over seeds; n = seeds). Gain: mean over data sets of (recipe − baseline); wins: data sets where the recipe beats the baseline by ≥ {margin:0} point{(margin == 1 ? "" : "s")}.");
                sb.AppendLine();
                sb.AppendLine("| recipe | " + string.Join(" | ", dataSets) + " | gain | wins |");
                sb.AppendLine("|---|" + string.Concat(dataSets.Select(_ => "---|")) + "---|---|");
                foreach (var recipe in recipes)
                {
                    var cells = new List<string>();
                    var gains = new List<double>();
                    int wins = 0;
                    foreach (var d in dataSets)
                    {
                        var xs = runs.Where(r => r.DataSet == d && r.Recipe == recipe).Select(pick).Where(x => !double.IsNaN(x)).ToList();
                        var bs = runs.Where(r => r.DataSet == d && r.Recipe == Recipe.Baseline).Select(pick).Where(x => !double.IsNaN(x)).ToList();
                        if (xs.Count == 0) { cells.Add("–"); continue; }
                        cells.Add($"{100 * xs.Average():F1} ± {100 * Sd(xs):F1} (n={xs.Count})");
                        if (bs.Count == 0) continue;
                        double gain = 100 * (xs.Average() - bs.Average());
                        gains.Add(gain);
                        if (gain >= margin) wins++;
                    }
                    string gainCell = recipe == Recipe.Baseline || gains.Count == 0 ? "" : $"{gains.Average():+0.0;−0.0}";
                    string winCell = recipe == Recipe.Baseline || gains.Count == 0 ? "" : $"{wins}/{gains.Count}";
                    sb.AppendLine($"| `{recipe}` | {string.Join(" | ", cells)} | {gainCell} | {winCell} |");
                }
                sb.AppendLine();
            }
            sb.AppendLine("**fit time**, seconds (mean over seeds; the baseline's includes its featurization):");
            sb.AppendLine();
            sb.AppendLine("| recipe | " + string.Join(" | ", dataSets) + " |");
            sb.AppendLine("|---|" + string.Concat(dataSets.Select(_ => "---|")));
            foreach (var recipe in recipes)
                sb.AppendLine($"| `{recipe}` | " + string.Join(" | ", dataSets.Select(d =>
                {
                    var xs = runs.Where(r => r.DataSet == d && r.Recipe == recipe).Select(r => r.FitSeconds).ToList();
                    return xs.Count == 0 ? "–" : xs.Average().ToString("F0", CultureInfo.InvariantCulture);
                })) + " |");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Describe(List<RunResult> runs, List<string> dataSets)
    {
        var parts = dataSets.Select(d =>
        {
            var any = runs.First(x => x.DataSet == d);
            string rows = $"{d}: {any.TrainRows} train / {any.TestRows} test rows, {any.Classes} classes";
            // Epochs and input size of the fine-tuned runs (the first recipe's; a recipe may change the epochs).
            if (runs.FirstOrDefault(x => x.DataSet == d && x.Recipe != Recipe.Baseline) is not { } r) return rows;
            return $"{rows}, {r.Epochs} epochs, {r.InputSize} {(r.Kind == "image" ? "px" : "tokens")}";
        });
        var dates = runs.Select(r => r.Finished).Order().ToList();
        return $"Rows: {string.Join("; ", parts)}. Runs finished {dates[0]} – {dates[^1]} UTC.";
    }

    private static double Sd(IReadOnlyList<double> xs)
    {
        if (xs.Count < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
    }

    /// <summary>Replaces the text between the markers (or appends the markers and the tables) and writes the file
    /// through a temporary name, so that an interrupted write never leaves half a page.</summary>
    public static void WriteInto(string path, string tables)
    {
        string page = File.Exists(path) ? File.ReadAllText(path) : "# Quality suite\n\n";
        int b = page.IndexOf(Begin, StringComparison.Ordinal), e = page.IndexOf(End, StringComparison.Ordinal);
        string block = Begin + "\n\n" + tables + End;
        page = b >= 0 && e > b ? page[..b] + block + page[(e + End.Length)..] : page.TrimEnd() + "\n\n" + block + "\n";
        string temp = path + ".tmp";
        File.WriteAllText(temp, page);
        File.Move(temp, path, overwrite: true);
    }
}
