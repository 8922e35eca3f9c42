using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// The regression tasks measured on real data (samples/data/README.md, "Quality suite: regression"):
/// <list type="bullet">
/// <item>images (DataPrep suite-glyph-weights, suite-glyph-angles, suite-glyph-counts): ten glyphs of each of 582 Debian
/// text fonts labelled with the weight class their font file declares (100 thin … 900 black), or drawn turned by −45 …
/// 45 degrees, the angle the target, or drawn 1 to 9 times small, the count the target; split by family. Baseline: SDCA regression on the
/// raw pixels (the classification suite's image baseline; or FastTree: <c>baseline-fasttree</c>); ours: <see cref="FineTuneImageRegressor"/> on its defaults
/// with the CPU's choices (image size, epochs).</item>
/// <item>text (DataPrep suite-package-sizes, suite-sotu-years, suite-word-valence, suite-word-frequency): a package's
/// short description → log10 installed KiB, a passage of a State of the Union address → its year, a word → its AFINN
/// valence, a word → log10 of its count in film subtitles. Baseline: FeaturizeText + SDCA regression (or FastTree:
/// <c>baseline-fasttree</c>); ours:
/// <see cref="LoraTextRegressor"/> on its defaults or a recipe (<see cref="Recipe"/>: <c>key=value</c> over them).</item>
/// </list>
/// R², RMSE and MAE on the test rows per seed, one JSON line per run; a run already in the results file is skipped.
///
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- regression [--kind image|text|all] [--seeds 1,2,3]
///       [--image-size 32] [--epochs 5] [--train-cap N] [--image-datasets glyph-weights,glyph-angles] [--datasets package-sizes,sotu-years,...]
///       [--recipes "baseline;defaults;lr=3e-3"] [--results FILE] [--range FILE.tsv]
///   (--range: instead of fitting, each recipe's learning-rate range test on the training rows, with the automatic
///   recipe's step count; the suggestion is printed and every step appended to FILE.tsv)
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- regression-report --results FILE[,FILE...]
/// </summary>
internal static class RegressionSuite
{
    /// <summary>The text regression sets of <c>eng/prepare-data.sh suite-text</c>, under data/suite/text.</summary>
    public static readonly string[] TextDataSets = ["package-sizes", "sotu-years", "word-valence", "word-frequency"];

    private sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public float Target { get; set; }
    }

    /// <summary>Where <c>--range</c> writes the range tests' curves; null: fit and score.</summary>
    private static string? rangeCurves;

    public static int Run(string repo, Func<string, string?> arg)
    {
        string kind = arg("--kind") ?? "all";
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "regression-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
        var recipes = (arg("--recipes") ?? "baseline;defaults").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Recipe.Parse).ToList();
        rangeCurves = arg("--range");
        if (kind is "image" or "all")
            foreach (string name in arg("--image-datasets")?.Split(',') ?? ImageDataSets)
                Images(repo, name, arg, seeds, results, recipes);
        if (kind is "text" or "all")
            foreach (string name in arg("--datasets")?.Split(',') ?? TextDataSets)
                Texts(repo, name, seeds, results, recipes);
        return 0;
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
        public float Target { get; set; }
    }

    private static void Texts(string repo, string name, List<int> seeds, string results, List<Recipe> recipes)
    {
        string folder = Path.Combine(repo, "data", "suite", "text", name);
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh suite-text first.");
        TextRow[] Read(string split) => File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => l.Split('\t', 2))
            .Select(f => new TextRow { Target = float.Parse(f[0], CultureInfo.InvariantCulture), Text = f[1] }).ToArray();
        var train = Read("train");
        var test = Read("test");
        Console.WriteLine($"{name}: {train.Length} train, {test.Length} test texts; train target mean {train.Average(r => r.Target):F2}");
        Runs(results, name, seeds, recipes, 0, 0, train.Length,
            ml => (ml.Data.LoadFromEnumerable(train), ml.Data.LoadFromEnumerable(test)),
            ml => ml.Transforms.Text.FeaturizeText("Features", nameof(TextRow.Text)),
            (ml, recipe, seed) =>
            {
                var options = new LoraTextRegressor.Options { LabelColumnName = nameof(TextRow.Target), Seed = seed };
                recipe.Apply(options);
                var estimator = ml.Regression.Trainers.LoraTextRegressor(options);
                return (estimator, options.Epochs, data => estimator.FindLearningRate(data, SuiteRunner.RangeTestSteps(train.Length, options.BatchSize)));
            });
    }

    /// <summary>The image regression sets of <c>eng/prepare-data.sh suite-images</c> (ImagePath, target, Family TSVs).</summary>
    public static readonly string[] ImageDataSets = ["glyph-weights", "glyph-angles", "glyph-counts"];

    private static void Images(string repo, string name, Func<string, string?> arg, List<int> seeds, string results, List<Recipe> recipes)
    {
        string folder = Path.Combine(repo, "data", "suite", "images", name);
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh suite-images first.");
        int imageSize = int.Parse(arg("--image-size") ?? "32"), epochs = int.Parse(arg("--epochs") ?? "5");
        int? cap = arg("--train-cap") is string c ? int.Parse(c) : null;
        var train = Read(folder, "train", cap);
        var test = Read(folder, "test", null);
        Console.WriteLine($"{name}: {train.Length} train, {test.Length} test images; train target mean {train.Average(r => r.Target):F1}, " +
                          $"spread {Spread(train):F1}");
        Runs(results, name, seeds, recipes, imageSize, epochs, train.Length,
            ml => (Load(ml, train), Load(ml, test)),
            ml => ml.Transforms.ResizeImages("Resized", imageSize, imageSize, "Image")
                .Append(ml.Transforms.ExtractPixels("Features", "Resized", scaleImage: 1f / 255)),
            (ml, recipe, seed) =>
            {
                var options = new FineTuneImageRegressor.Options { LabelColumnName = nameof(Row.Target), ImageSize = imageSize, Epochs = epochs, Seed = seed };
                recipe.Apply(options);
                var estimator = ml.Regression.Trainers.FineTuneImageRegressor(options);
                return (estimator, options.Epochs, data => estimator.FindLearningRate(data, SuiteRunner.RangeTestSteps(train.Length, options.BatchSize)));
            });
    }

    /// <summary>One data set's runs: each seed and recipe not yet in the results file, on a fresh <see cref="MLContext"/>
    /// of the seed; a baseline through ML.NET alone (<paramref name="features"/> into a column <c>Features</c>, then SDCA,
    /// or FastTree for <see cref="Recipe.FastTreeBaseline"/>), the others through the regressor the recipe makes. Both kinds
    /// name their target column <c>Target</c>.</summary>
    private static void Runs(string results, string name, List<int> seeds, List<Recipe> recipes, int imageSize, int epochs, int trainRows,
                             Func<MLContext, (IDataView Train, IDataView Test)> load,
                             Func<MLContext, IEstimator<ITransformer>> features,
                             Func<MLContext, Recipe, int, (IEstimator<FineTunedTransformer> Estimator, int Epochs, Func<IDataView, LearningRateRange> FindLearningRate)> fineTuner)
    {
        var done = RegressionReport.Read(results).Select(r => (r.DataSet, r.Recipe, r.Seed)).ToHashSet();
        foreach (int seed in seeds)
        foreach (var recipe in recipes)
        {
            if (done.Contains((name, recipe.Name, seed)) || (rangeCurves != null && recipe.IsBaseline)) continue;
            var ml = SuiteRunner.PrintingChoices(new MLContext(seed));
            var (train, test) = load(ml);
            RegressionMetrics Score(ITransformer model) => ml.Regression.Evaluate(model.Transform(test), nameof(Row.Target));
            if (recipe.IsBaseline)
            {
                IEstimator<ITransformer> trainer = recipe.Name == Recipe.FastTreeBaseline
                    ? ml.Regression.Trainers.FastTree(nameof(Row.Target), "Features")
                    : ml.Regression.Trainers.Sdca(nameof(Row.Target), "Features");
                Report(results, name, recipe.Name, seed, imageSize, epochs, trainRows, () => (Score(features(ml).Append(trainer).Fit(train)), null, null));
                continue;
            }
            var (estimator, recipeEpochs, findLearningRate) = fineTuner(ml, recipe, seed);
            if (rangeCurves != null)
            {
                SuiteRunner.WriteRange(rangeCurves, name, recipe.Name, seed, () => findLearningRate(train));
                continue;
            }
            Report(results, name, recipe.Name, seed, imageSize, recipeEpochs, trainRows, () =>
            {
                using var model = estimator.Fit(train);
                return (Score(model), TrainLoss(model), SuiteRunner.Describe(model.RecipeSearch));
            });
        }
    }

    /// <summary>The mean training loss of each epoch, in standardised units (1 is what predicting the mean costs).</summary>
    private static double[] TrainLoss(FineTunedTransformer model) => [.. model.History.Select(h => Math.Round(h.TrainLoss, 4))];

    private static void Report(string results, string dataset, string recipe, int seed, int imageSize, int epochs, int trainRows,
                               Func<(RegressionMetrics Metrics, double[]? TrainLoss, string? Chosen)> run)
    {
        var watch = Stopwatch.StartNew();
        var (m, trainLoss, chosen) = run();
        double seconds = watch.Elapsed.TotalSeconds;
        string losses = trainLoss == null ? "" : $", train loss by epoch {string.Join(" ", trainLoss.Select(l => l.ToString("F3", CultureInfo.InvariantCulture)))}";
        Console.WriteLine($"  {dataset} {recipe} seed {seed}: R² {m.RSquared:F3}, RMSE {m.RootMeanSquaredError:F1}, MAE {m.MeanAbsoluteError:F1} in {seconds:F0} s{losses}{(chosen == null ? "" : $"; kept {chosen}")}");
        File.AppendAllLines(results, [JsonSerializer.Serialize(new
        {
            dataset, recipe, seed, imageSize, epochs, trainRows, rSquared = m.RSquared,
            rmse = m.RootMeanSquaredError, mae = m.MeanAbsoluteError, trainLoss, chosen, seconds = Math.Round(seconds, 1),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        })]);
    }

    private static Row[] Read(string folder, string split, int? cap)
    {
        var rows = File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => l.Split('\t'))
            .Select(f => new Row { ImagePath = Path.Combine(folder, f[0]), Target = float.Parse(f[1], CultureInfo.InvariantCulture) }).ToArray();
        return cap is int n && n < rows.Length ? rows.Take(n).ToArray() : rows;
    }

    private static IDataView Load(MLContext ml, Row[] rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(Row.ImagePath)).Fit(view).Transform(view);
    }

    private static double Spread(Row[] rows)
    {
        double mean = rows.Average(r => r.Target);
        return Math.Sqrt(rows.Average(r => (r.Target - mean) * (r.Target - mean)));
    }
}
