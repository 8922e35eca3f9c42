using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// The regression task measured on real data (issue 12): glyph-weights (eng/prepare-data.sh suite-images; DataPrep
/// suite-glyph-weights), ten glyphs of each of 582 Debian text fonts labelled with the weight class their font file
/// declares (100 thin … 900 black), split by family. Per seed: ML.NET's classic baseline (SDCA regression on the raw
/// pixels, as the classification suite's image baseline) and <see cref="FineTuneImageRegressor"/> on its defaults with
/// the CPU's choices (image size, epochs); R², RMSE and MAE on the test fonts, one JSON line per run.
///
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- regression [--seeds 1,2,3] [--image-size 32]
///       [--epochs 5] [--train-cap N] [--results FILE]
/// </summary>
internal static class RegressionSuite
{
    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public float Weight { get; set; }
    }

    public static int Run(string repo, Func<string, string?> arg)
    {
        string folder = Path.Combine(repo, "data", "suite", "images", "glyph-weights");
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh suite-images first.");
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
        int imageSize = int.Parse(arg("--image-size") ?? "32"), epochs = int.Parse(arg("--epochs") ?? "5");
        int? cap = arg("--train-cap") is string c ? int.Parse(c) : null;
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "regression-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);

        var train = Read(folder, "train", cap);
        var test = Read(folder, "test", null);
        Console.WriteLine($"glyph-weights: {train.Length} train, {test.Length} test images; train weights mean {train.Average(r => r.Weight):F0}, " +
                          $"spread {Spread(train):F0}");
        foreach (int seed in seeds)
        {
            var ml = new MLContext(seed);
            var trainView = Load(ml, train);
            var testView = Load(ml, test);
            Report(results, "baseline", seed, imageSize, epochs, train.Length, () =>
            {
                var pipeline = ml.Transforms.ResizeImages("Resized", imageSize, imageSize, "Image")
                    .Append(ml.Transforms.ExtractPixels("Features", "Resized", scaleImage: 1f / 255))
                    .Append(ml.Regression.Trainers.Sdca(nameof(Row.Weight), "Features"));
                var model = pipeline.Fit(trainView);
                return ml.Regression.Evaluate(model.Transform(testView), nameof(Row.Weight));
            });
            Report(results, "defaults", seed, imageSize, epochs, train.Length, () =>
            {
                using var model = ml.Regression.Trainers.FineTuneImageRegressor(new FineTuneImageRegressor.Options
                {
                    LabelColumnName = nameof(Row.Weight), ImageSize = imageSize, Epochs = epochs, Seed = seed,
                }).Fit(trainView);
                return ml.Regression.Evaluate(model.Transform(testView), nameof(Row.Weight));
            });
        }
        return 0;
    }

    private static void Report(string results, string recipe, int seed, int imageSize, int epochs, int trainRows, Func<RegressionMetrics> run)
    {
        var watch = Stopwatch.StartNew();
        var m = run();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  {recipe,-9} seed {seed}: R² {m.RSquared:F3}, RMSE {m.RootMeanSquaredError:F1}, MAE {m.MeanAbsoluteError:F1} in {seconds:F0} s");
        File.AppendAllLines(results, [JsonSerializer.Serialize(new
        {
            dataset = "glyph-weights", recipe, seed, imageSize, epochs, trainRows, rSquared = m.RSquared,
            rmse = m.RootMeanSquaredError, mae = m.MeanAbsoluteError, seconds = Math.Round(seconds, 1),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        })]);
    }

    private static Row[] Read(string folder, string split, int? cap)
    {
        var rows = File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => l.Split('\t'))
            .Select(f => new Row { ImagePath = Path.Combine(folder, f[0]), Weight = float.Parse(f[1], CultureInfo.InvariantCulture) }).ToArray();
        return cap is int n && n < rows.Length ? rows.Take(n).ToArray() : rows;
    }

    private static IDataView Load(MLContext ml, Row[] rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(Row.ImagePath)).Fit(view).Transform(view);
    }

    private static double Spread(Row[] rows)
    {
        double mean = rows.Average(r => r.Weight);
        return Math.Sqrt(rows.Average(r => (r.Weight - mean) * (r.Weight - mean)));
    }
}
