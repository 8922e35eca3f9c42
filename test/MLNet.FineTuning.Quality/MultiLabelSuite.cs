using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Evaluation;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// Multi-label classification measured on real data (issue 12), per seed beside ML.NET's classic way to multi-label
/// (binary relevance: one SDCA logistic regression per label, <see cref="BinaryRelevanceBaseline"/>); micro and macro F1
/// on the test rows, one JSON line per run:
/// <list type="bullet">
/// <item>text, package-tags (DataPrep suite-package-tags): a Debian package's short description → its debtags among the
/// 20 most frequent; baseline features FeaturizeText. Recipes: the defaults (no validation rows, so every threshold ½);
/// 10 % of the training rows held out to choose each label's threshold; the same holdout with the thresholds at ½ (what
/// the holdout alone costs); and the holdout with chosen thresholds at rate 3e-3.</item>
/// <item>images, glyph-styles (DataPrep suite-glyph-styles): ten glyphs of each of 582 Debian text fonts → bold, light,
/// italic, condensed, monospace (none to three), fonts split by family; baseline features the raw pixels at the image
/// size. The defaults at 32 px, 5 epochs.</item>
/// </list>
/// On both, <c>budget=M</c> is the defaults with a <c>TimeBudget</c> of M minutes (the automatic recipe; not run unless named).
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- multilabel [--kind text|image|all] [--seeds 1,2,3]
///       [--recipes "baseline;defaults;thresholds;holdout,fixed;thresholds,lr=3e-3;budget=3"] [--image-size 32] [--epochs 5] [--results FILE]
/// </summary>
internal static class MultiLabelSuite
{
    private sealed class Row
    {
        public string Tags { get; set; } = "";
        public string Text { get; set; } = "";
        public string ImagePath { get; set; } = "";
    }

    public static int Run(string repo, Func<string, string?> arg)
    {
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
        string kind = arg("--kind") ?? "all";
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "multilabel-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);
        var recipes = arg("--recipes")?.Split(';').ToHashSet();   // recipes to run (default: all but the budgets, and the baseline)
        if (kind is "text" or "all") Texts(repo, seeds, results, recipes);
        if (kind is "image" or "all") Images(repo, seeds, results, recipes, int.Parse(arg("--image-size") ?? "32"), int.Parse(arg("--epochs") ?? "5"));
        return 0;
    }

    /// <summary>The time budgets named by <c>budget=M</c> recipes, in minutes.</summary>
    private static IEnumerable<(string Recipe, TimeSpan Budget)> Budgets(HashSet<string>? recipes) =>
        (recipes ?? []).Where(r => r.StartsWith("budget=", StringComparison.Ordinal))
            .Select(r => (r, TimeSpan.FromMinutes(double.Parse(r["budget=".Length..], CultureInfo.InvariantCulture))));

    private static void Texts(string repo, List<int> seeds, string results, HashSet<string>? recipes)
    {
        const string name = "package-tags";
        var (train, test) = Read(Path.Combine(repo, "data", "suite", "text", name), f => new Row { Tags = f[0], Text = f[1] }, "suite-text");
        foreach (int seed in seeds)
        {
            var ml = SuiteRunner.PrintingChoices(new MLContext(seed));
            var (trainView, testView, names) = Labelled(ml, train, test);
            if (recipes?.Contains("baseline") != false)
                Report(results, name, "baseline", seed, train.Length, () => Baseline(ml, ml.Transforms.Text.FeaturizeText("Features", nameof(Row.Text)), trainView, testView, names));
            var runs = new (string Recipe, double Validation, bool Choose, double Rate, TimeSpan? Budget)[]
                     { ("defaults", 0.0, true, 0.0, null), ("thresholds", 0.1, true, 0.0, null), ("holdout,fixed", 0.1, false, 0.0, null), ("thresholds,lr=3e-3", 0.1, true, 3e-3, null) }
                .Where(r => recipes?.Contains(r.Recipe) != false)
                .Concat(Budgets(recipes).Select(b => (b.Recipe, 0.0, false, 0.0, (TimeSpan?)b.Budget)));   // the options' defaults, with a budget
            foreach (var (recipe, validation, choose, rate, budget) in runs)
                Report(results, name, recipe, seed, train.Length, () =>
                {
                    var options = new LoraTextMultiLabelClassifier.Options { Seed = seed, ValidationFraction = validation, ChooseThresholds = choose, TimeBudget = budget };
                    if (rate > 0) options.LearningRate = rate;
                    using var model = ml.MultiLabelClassification().Trainers.LoraTextClassifier(options).Fit(trainView);
                    return (ml.MultiLabelClassification().Evaluate(model.Transform(testView)), SuiteRunner.Describe(model.RecipeSearch));
                });
        }
    }

    private static void Images(string repo, List<int> seeds, string results, HashSet<string>? recipes, int imageSize, int epochs)
    {
        const string name = "glyph-styles";
        string folder = Path.Combine(repo, "data", "suite", "images", name);
        var (train, test) = Read(folder, f => new Row { ImagePath = Path.Combine(folder, f[0]), Tags = f[1] }, "suite-images");
        foreach (int seed in seeds)
        {
            var ml = SuiteRunner.PrintingChoices(new MLContext(seed));
            var (trainTags, testTags, names) = Labelled(ml, train, test);
            var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(Row.ImagePath));
            var trainView = images.Fit(trainTags).Transform(trainTags);
            var testView = images.Fit(testTags).Transform(testTags);
            if (recipes?.Contains("baseline") != false)
                Report(results, name, "baseline", seed, train.Length, () => Baseline(ml,
                    ml.Transforms.ResizeImages("Resized", imageSize, imageSize, "Image").Append(ml.Transforms.ExtractPixels("Features", "Resized", scaleImage: 1f / 255)),
                    trainView, testView, names));
            var runs = (recipes?.Contains("defaults") != false ? [("defaults", (TimeSpan?)null)] : Array.Empty<(string, TimeSpan?)>())
                .Concat(Budgets(recipes).Select(b => (b.Recipe, (TimeSpan?)b.Budget)));
            foreach (var (recipe, budget) in runs)
                Report(results, name, recipe, seed, train.Length, () =>
                {
                    using var model = ml.MultiLabelClassification().Trainers.FineTuneImageClassifier(new FineTuneImageMultiLabelClassifier.Options
                        { ImageSize = imageSize, Epochs = epochs, Seed = seed, TimeBudget = budget }).Fit(trainView);
                    return (ml.MultiLabelClassification().Evaluate(model.Transform(testView)), SuiteRunner.Describe(model.RecipeSearch));
                });
        }
    }

    private static (Row[] Train, Row[] Test) Read(string folder, Func<string[], Row> row, string verb)
    {
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh {verb} first.");
        Row[] Split(string split) => [.. File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => row(l.Split('\t')))];
        var (train, test) = (Split("train"), Split("test"));
        Console.WriteLine($"{Path.GetFileName(folder)}: {train.Length} train, {test.Length} test rows");
        return (train, test);
    }

    /// <summary>The tags as the label vector, the bag fitted on the training rows (ML.NET's own transforms, as a user builds it).</summary>
    private static (IDataView Train, IDataView Test, string[] Names) Labelled(MLContext ml, Row[] train, Row[] test)
    {
        var trainData = ml.Data.LoadFromEnumerable(train);
        var tags = ml.Transforms.Text.TokenizeIntoWords("TagWords", nameof(Row.Tags), separators: [';'])
            .Append(ml.Transforms.Categorical.OneHotEncoding("Label", "TagWords", Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Bag))
            .Fit(trainData);
        var trainView = tags.Transform(trainData);
        VBuffer<ReadOnlyMemory<char>> slots = default;
        trainView.Schema["Label"].GetSlotNames(ref slots);
        return (trainView, tags.Transform(ml.Data.LoadFromEnumerable(test)), [.. slots.DenseValues().Select(s => s.ToString())]);
    }

    private static (MultiLabelMetrics, string?) Baseline(MLContext ml, IEstimator<ITransformer> features, IDataView train, IDataView test, string[] names)
    {
        var fitted = features.Fit(train);
        return (BinaryRelevanceBaseline.Evaluate(ml, fitted.Transform(train), fitted.Transform(test), names), null);
    }

    /// <summary>Runs, prints and appends one results line; <c>chosen</c> is what the automatic recipe did, when it ran.</summary>
    private static void Report(string results, string dataset, string recipe, int seed, int trainRows, Func<(MultiLabelMetrics, string?)> run)
    {
        var watch = Stopwatch.StartNew();
        var (m, chosen) = run();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  {dataset} {recipe,-18} seed {seed}: micro F1 {m.MicroF1:F3}, macro F1 {m.MacroF1:F3}, exact {m.SubsetAccuracy:F3}, " +
                          $"Hamming {m.HammingLoss:F3} in {seconds:F0} s{(chosen == null ? "" : $"; kept {chosen}")}");
        File.AppendAllLines(results, [JsonSerializer.Serialize(new
        {
            dataset, recipe, seed, trainRows, microF1 = Math.Round(m.MicroF1, 4), macroF1 = Math.Round(m.MacroF1, 4),
            subsetAccuracy = Math.Round(m.SubsetAccuracy, 4), hammingLoss = Math.Round(m.HammingLoss, 4), chosen, seconds = Math.Round(seconds, 1),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        })]);
    }
}
