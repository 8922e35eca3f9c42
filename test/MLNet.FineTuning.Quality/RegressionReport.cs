using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// The regression suite's table (<c>regression-report --results a.jsonl,b.jsonl</c>): held-out R² per data set and
/// recipe as mean ± sample standard deviation over seeds, the mean gain over the baseline in R² points (×100), and the
/// wins: data sets where the recipe's mean R² beats the baseline's by at least 0.02 (the text classification margin,
/// 2 points, read as explained variance). A run repeated in a later file replaces the earlier one.
/// </summary>
internal static class RegressionReport
{
    internal sealed record Run(string DataSet, string Recipe, int Seed, double RSquared, double Rmse, double Seconds);

    /// <summary>The runs of one results file (<see cref="RegressionSuite"/>'s JSON lines); none when it does not exist.</summary>
    public static IEnumerable<Run> Read(string file) => !File.Exists(file) ? [] :
        File.ReadLines(file).Where(l => l.Trim().Length > 0).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => new Run(e.GetProperty("dataset").GetString()!, e.GetProperty("recipe").GetString()!, e.GetProperty("seed").GetInt32(),
                                 e.GetProperty("rSquared").GetDouble(), e.GetProperty("rmse").GetDouble(), e.GetProperty("seconds").GetDouble()));

    public static int Write(Func<string, string?> arg)
    {
        var files = (arg("--results") ?? throw new ArgumentException("regression-report needs --results FILE[,FILE...]")).Split(',');
        var runs = new Dictionary<(string, string, int), Run>();
        foreach (var run in files.SelectMany(Read))
            runs[(run.DataSet, run.Recipe, run.Seed)] = run;
        var dataSets = runs.Values.Select(r => r.DataSet).Distinct().ToList();
        var recipes = runs.Values.Select(r => r.Recipe).Distinct()
            .OrderBy(r => r == Recipe.Baseline ? 0 : r == Recipe.FastTreeBaseline ? 1 : r == Recipe.Defaults ? 2 : 3).ToList();
        var sb = new StringBuilder();
        sb.AppendLine($"| recipe | {string.Join(" | ", dataSets)} | gain | wins | fit s (mean) |");
        sb.AppendLine($"|---|{string.Concat(dataSets.Select(_ => "---|"))}---|---|---|");
        foreach (string recipe in recipes)
        {
            var cells = new List<string>();
            double gain = 0;
            int compared = 0, wins = 0;
            foreach (string d in dataSets)
            {
                var r2 = runs.Values.Where(r => r.DataSet == d && r.Recipe == recipe).Select(r => r.RSquared).ToList();
                var baseline = runs.Values.Where(r => r.DataSet == d && r.Recipe == Recipe.Baseline).Select(r => r.RSquared).ToList();
                cells.Add(r2.Count == 0 ? "" : $"{r2.Average():F3} ± {Sd(r2):F3} (n={r2.Count})");
                if (r2.Count == 0 || baseline.Count == 0 || recipe == Recipe.Baseline) continue;
                gain += r2.Average() - baseline.Average();
                compared++;
                if (r2.Average() - baseline.Average() >= 0.02) wins++;
            }
            var seconds = runs.Values.Where(r => r.Recipe == recipe).Select(r => r.Seconds).ToList();
            string gainCell = compared == 0 ? "" : (100 * gain / compared).ToString("+0.0;−0.0", CultureInfo.InvariantCulture);
            string winCell = compared == 0 ? "" : $"{wins}/{compared}";
            sb.AppendLine($"| `{recipe}` | {string.Join(" | ", cells)} | {gainCell} | {winCell} | {seconds.Average():F0} |");
        }
        Console.Write(sb.ToString());
        return 0;
    }

    private static double Sd(List<double> xs)
    {
        if (xs.Count < 2) return 0;
        double mean = xs.Average();
        return Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Count - 1));
    }
}
