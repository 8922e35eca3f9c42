using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Quality;

/// <summary>Runs one data set with one recipe and one seed, through the public ML.NET API exactly as a user would:
/// MapValueToKey, then the estimator (or ML.NET's classic trainer for the baseline), Fit, Evaluate on the test rows.</summary>
internal sealed class SuiteRunner(string repoRoot, Profile profile, int? gpu, TrainingPrecision precision)
{
    public string Device => gpu is int id ? $"cuda:{id}" : "cpu";

    /// <summary>Where a recipe runs: ML.NET's classic trainers always run on the CPU, whatever --gpu says.</summary>
    public string DeviceOf(Recipe recipe) => recipe.IsBaseline ? "cpu" : Device;

    public RunResult Run(SuiteDataSet d, Recipe recipe, int seed)
    {
        var ml = PrintingChoices(new MLContext(seed));
        if (gpu is int id) { ml.GpuDeviceId = id; ml.FallbackToCpu = true; }
        string folder = SuiteData.Locate(repoRoot, d);
        return d.Kind == DataKind.Image ? RunImages(ml, d, folder, recipe, seed) : RunTexts(ml, d, folder, recipe, seed);
    }

    private RunResult RunImages(MLContext ml, SuiteDataSet d, string folder, Recipe recipe, int seed)
    {
        var trainRows = SuiteData.Images(folder, "train", profile.TrainRows, d.TrainPool);
        var testRows = SuiteData.KnownClassesOnly(SuiteData.Images(folder, "test", profile.TestRows), trainRows, r => r.Label, d.Name);
        IDataView train = ml.Data.LoadFromEnumerable(trainRows), test = ml.Data.LoadFromEnumerable(testRows);
        // Beside the derived data (ignored by git), one folder per data set and test sample size.
        var shifted = ml.Data.LoadFromEnumerable(ShiftedTestSet.Images(testRows, Path.Combine(repoRoot, "data", "suite", "shifted", $"{d.Name}-{testRows.Count}")));
        int size = profile.ImageSizeFor(d);
        var start = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)));
        IEstimator<ITransformer> trainer;
        int epochs = 0;
        if (recipe.IsBaseline)
        {
            // ML.NET alone: SDCA maximum entropy (or LightGBM) on the raw RGB pixels at 32×32 (what the image sample compares with).
            trainer = ml.Transforms.ResizeImages("Image", 32, 32)
                .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
                .AppendCacheCheckpoint(ml)
                .Append(ClassicTrainer(ml, recipe));
            size = 32;
        }
        else
        {
            var o = ImageOptions(d, recipe, seed);
            epochs = o.Epochs;
            trainer = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(o);
        }
        return FitAndScore(ml, start.Append(trainer), train, test, shifted, d, recipe, seed, trainRows.Count, testRows.Count,
            trainRows.Select(r => r.Label).Distinct().Count(), epochs, size);
    }

    private RunResult RunTexts(MLContext ml, SuiteDataSet d, string folder, Recipe recipe, int seed)
    {
        var trainRows = SuiteData.Texts(ml, folder, "train", profile.TrainRows);
        var testRows = SuiteData.KnownClassesOnly(SuiteData.Texts(ml, folder, "test", profile.TestRows), trainRows, r => r.Label, d.Name);
        IDataView train = ml.Data.LoadFromEnumerable(trainRows), test = ml.Data.LoadFromEnumerable(testRows);
        var shifted = ml.Data.LoadFromEnumerable(ShiftedTestSet.Texts(testRows));
        IEstimator<ITransformer> trainer;
        int epochs = 0, length = 0;
        if (recipe.IsBaseline)
        {
            // ML.NET alone: FeaturizeText (word uni/bigrams + character trigrams) and SDCA maximum entropy (or LightGBM).
            trainer = ml.Transforms.Text.FeaturizeText("Features", "Text")
                .AppendCacheCheckpoint(ml)
                .Append(ClassicTrainer(ml, recipe));
        }
        else
        {
            var o = TextOptions(recipe, seed);
            epochs = o.Epochs;
            length = o.MaxSequenceLength;
            trainer = ml.MulticlassClassification.Trainers.LoraTextClassifier(o);
        }
        return FitAndScore(ml, ml.Transforms.Conversion.MapValueToKey("Label").Append(trainer), train, test, shifted, d, recipe, seed,
            trainRows.Count, testRows.Count, trainRows.Select(r => r.Label).Distinct().Count(), epochs, length);
    }

    /// <summary>The baseline's trainer on a <c>Features</c> column: SDCA maximum entropy, or LightGBM for
    /// <see cref="Recipe.LightGbmBaseline"/>.</summary>
    private static IEstimator<ITransformer> ClassicTrainer(MLContext ml, Recipe recipe) => recipe.Name == Recipe.LightGbmBaseline
        ? ml.MulticlassClassification.Trainers.LightGbm()
        : ml.MulticlassClassification.Trainers.SdcaMaximumEntropy();

    private FineTuneImageClassifier.Options ImageOptions(SuiteDataSet d, Recipe recipe, int seed)
    {
        var o = new FineTuneImageClassifier.Options
        {
            LabelColumnName = "Label", ImageColumnName = "Image", Seed = seed, Precision = precision,
            Epochs = profile.ImageEpochs, ImageSize = profile.ImageSizeFor(d), BatchSize = profile.ImageBatchSize, LogEveryNSteps = 1000,
        };
        recipe.Apply(o);
        return o;
    }

    private LoraTextClassifier.Options TextOptions(Recipe recipe, int seed)
    {
        var o = new LoraTextClassifier.Options
        {
            LabelColumnName = "Label", TextColumnName = "Text", Seed = seed, Precision = precision,
            Epochs = profile.TextEpochs, BatchSize = profile.TextBatchSize, LogEveryNSteps = 1000,
        };
        recipe.Apply(o);
        return o;
    }

    /// <summary>The learning-rate range test of the automatic recipe, on the rows its search trains on (four fifths of
    /// the profile's training rows) with as many steps (two passes, 30 to 100): what the search would be told.</summary>
    public LearningRateRange RangeTest(SuiteDataSet d, Recipe recipe, int seed)
    {
        var ml = new MLContext(seed);
        if (gpu is int id) { ml.GpuDeviceId = id; ml.FallbackToCpu = true; }
        string folder = SuiteData.Locate(repoRoot, d);
        var mapLabel = ml.Transforms.Conversion.MapValueToKey("Label");
        if (d.Kind == DataKind.Image)
        {
            var rows = SuiteData.Images(folder, "train", profile.TrainRows, d.TrainPool);
            var o = ImageOptions(d, recipe, seed);
            var data = mapLabel.Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
                .Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(SearchRows(rows, seed)));
            return ml.MulticlassClassification.Trainers.FineTuneImageClassifier(o).FindLearningRate(data, RangeTestSteps(rows.Count, o.BatchSize));
        }
        else
        {
            var rows = SuiteData.Texts(ml, folder, "train", profile.TrainRows);
            var o = TextOptions(recipe, seed);
            var data = mapLabel.Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(SearchRows(rows, seed)));
            return ml.MulticlassClassification.Trainers.LoraTextClassifier(o).FindLearningRate(data, RangeTestSteps(rows.Count, o.BatchSize));
        }
    }

    /// <summary>A seeded four fifths of the rows, as the automatic recipe's own validation split leaves for training.</summary>
    private static List<T> SearchRows<T>(IReadOnlyList<T> rows, int seed)
    {
        var random = new Random(seed);
        return rows.OrderBy(_ => random.Next()).Take(SearchRowCount(rows.Count)).ToList();
    }

    private static int SearchRowCount(int rows) => (int)Math.Round(rows * (1 - ValidationSplit.AutomaticFraction));

    /// <summary>The automatic recipe's own step count for its range test on the search's rows.</summary>
    internal static int RangeTestSteps(int rows, int batchSize) => RecipeCandidates.RangeTestSteps(SearchRowCount(rows), batchSize);

    /// <summary>Runs a range test, prints its suggestion and time, and appends every step (data set, recipe, seed, rate, loss,
    /// smoothed loss) to <paramref name="curves"/>.</summary>
    internal static void WriteRange(string curves, string dataSet, string recipe, int seed, Func<LearningRateRange> rangeTest)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var range = rangeTest();
        Console.WriteLine($"  {dataSet,-18} seed {seed}  {recipe,-20} {range.Points.Count} steps in {watch.Elapsed.TotalSeconds:F0} s: " +
                          $"suggested {range.SuggestedLearningRate:G2}, lowest loss at {range.MinimumLossLearningRate:G2}" +
                          (range.StoppedAtDivergence ? " (stopped at divergence)" : "") + (range.LossFellClearly ? "" : "; no clear fall"));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(curves))!);
        File.AppendAllLines(curves, range.Points.Select(p =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{dataSet}\t{recipe}\t{seed}\t{p.LearningRate:G4}\t{p.Loss:G5}\t{p.SmoothedLoss:G5}")));
    }

    /// <summary>The context with the choices a run makes itself (the automatic recipe's steps, the interpolation's α) and
    /// the fine-tuning estimators' warnings (a run that learned nothing) printed to the console.</summary>
    internal static MLContext PrintingChoices(MLContext ml)
    {
        ml.Log += (_, e) =>
        {
            if (e.Message.Contains("automatic recipe:") || e.Message.Contains("weight interpolation:")
                || (e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning && (e.Source.StartsWith("FineTune", StringComparison.Ordinal) || e.Source.StartsWith("LoraText", StringComparison.Ordinal))))
                Console.WriteLine("      " + e.Message[(e.Message.IndexOf("] ", StringComparison.Ordinal) + 2)..]);
        };
        return ml;
    }

    /// <summary>What the automatic recipe did, for a results line: the kept recipe, the runs it took (range test not
    /// counted), and whether the range test was stopped or the search cut short by the budget; null when no budget was set.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(s))]
    internal static string? Describe(RecipeSearchResult? s) => s is null ? null :
        $"{s.Chosen.Recipe} ({s.Trials.Count} runs{(s.LearningRateRange == null ? ", no range test" : "")}{(s.CutShortByBudget ? ", cut short" : "")})";

    /// <summary>What the run chose itself: the automatic recipe's kept recipe (<see cref="Describe"/>) and the weight
    /// interpolation's α when it was applied.</summary>
    private static string? ChosenRecipe(ITransformer model)
    {
        if (model is not TransformerChain<ITransformer> { LastTransformer: FineTunedTransformer t }) return null;
        var parts = new List<string>();
        if (t.RecipeSearch is { } s) parts.Add(Describe(s));
        if (t.WeightInterpolation < 1) parts.Add($"α={t.WeightInterpolation:F1}");
        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private RunResult FitAndScore(MLContext ml, IEstimator<ITransformer> pipeline, IDataView train, IDataView test, IDataView shifted, SuiteDataSet d,
                                  Recipe recipe, int seed, int trainCount, int testCount, int classes, int epochs, int inputSize)
    {
        var watch = Stopwatch.StartNew();
        var model = pipeline.Fit(train);
        try
        {
            double fit = watch.Elapsed.TotalSeconds;
            watch.Restart();
            var m = ml.MulticlassClassification.Evaluate(model.Transform(test));
            double shiftedAccuracy = ml.MulticlassClassification.Evaluate(model.Transform(shifted)).MicroAccuracy;
            string numbers = recipe.IsBaseline ? "float32" : precision == TrainingPrecision.Auto ? (gpu != null ? "bfloat16" : "float32") : precision.ToString().ToLowerInvariant();
            return new RunResult(profile.Name, DeviceOf(recipe), numbers, d.Name, d.Kind.ToString().ToLowerInvariant(), recipe.Name, seed,
                trainCount, testCount, classes, epochs, inputSize, m.MicroAccuracy, m.MacroAccuracy, m.LogLoss,
                Math.Round(fit, 1), Math.Round(watch.Elapsed.TotalSeconds, 1), DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm"), ChosenRecipe(model), shiftedAccuracy);
        }
        finally
        {
            // Disposing deletes the model's temporary copy of its ONNX graph (tens of MB per run).
            (model as IDisposable)?.Dispose();
        }
    }
}
