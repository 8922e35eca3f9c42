using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// Sentence-pair classification measured on real data (issue 12): package-pairs (DataPrep suite-package-pairs;
/// samples/data/README.md), a Debian package's name beside a short description, its own (match) or that of another
/// package of the same section (other). Per seed: ML.NET's classic baseline (FeaturizeText over both columns + SDCA,
/// which sees the words of both texts but cannot compare them) and <see cref="LoraTextClassifier"/> on its defaults
/// with <c>SecondTextColumnName</c>; accuracy on the test pairs, one JSON line per run.
///
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- pairs [--seeds 1,2,3] [--data package-pairs] [--results FILE]
/// </summary>
internal static class PairSuite
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string Name { get; set; } = "";
        public string Text { get; set; } = "";
    }

    public static int Run(string repo, Func<string, string?> arg)
    {
        string name = arg("--data") ?? "package-pairs";
        string folder = Path.Combine(repo, "data", "suite", "text", name);
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh suite-text first.");
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "pairs-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);
        Row[] Read(string split) => File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => l.Split('\t'))
            .Select(f => new Row { Label = f[0], Name = f[1], Text = f[2] }).ToArray();
        var train = Read("train");
        var test = Read("test");
        Console.WriteLine($"{name}: {train.Length} train, {test.Length} test pairs");
        foreach (int seed in seeds)
        {
            var ml = new MLContext(seed);
            var trainData = ml.Data.LoadFromEnumerable(train);
            var key = ml.Transforms.Conversion.MapValueToKey("Label").Fit(trainData);
            var trainView = key.Transform(trainData);
            var testView = key.Transform(ml.Data.LoadFromEnumerable(test));
            Report(results, name, "baseline", seed, train.Length, () =>
            {
                var model = ml.Transforms.Text.FeaturizeText("Features", new Microsoft.ML.Transforms.Text.TextFeaturizingEstimator.Options(), nameof(Row.Name), nameof(Row.Text))
                    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy()).Fit(trainView);
                return ml.MulticlassClassification.Evaluate(model.Transform(testView)).MicroAccuracy;
            });
            Report(results, name, "defaults", seed, train.Length, () =>
            {
                using var model = ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
                {
                    TextColumnName = nameof(Row.Name), SecondTextColumnName = nameof(Row.Text), Seed = seed,
                }).Fit(trainView);
                return ml.MulticlassClassification.Evaluate(model.Transform(testView)).MicroAccuracy;
            });
        }
        return 0;
    }

    private static void Report(string results, string dataset, string recipe, int seed, int trainRows, Func<double> run)
    {
        var watch = Stopwatch.StartNew();
        double accuracy = run();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  {dataset} {recipe,-9} seed {seed}: accuracy {accuracy:P1} in {seconds:F0} s");
        File.AppendAllLines(results, [JsonSerializer.Serialize(new
        {
            dataset, recipe, seed, trainRows, accuracy, seconds = Math.Round(seconds, 1),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        })]);
    }
}
