using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Evaluation;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// Multi-label classification measured on real data (issue 12): package-tags (DataPrep suite-package-tags;
/// samples/data/README.md), a Debian package's short description → its debtags among the 20 most frequent. Per seed:
/// ML.NET's classic way to multi-label (binary relevance: FeaturizeText, then one SDCA logistic regression per label,
/// each predicting at probability ½), <see cref="LoraTextMultiLabelClassifier"/> on its defaults (no validation rows, so
/// every threshold ½), the same with 10 % of the training rows held out to choose each label's threshold, and that at
/// learning rate 3e-3. Micro and
/// macro F1 on the test rows, one JSON line per run.
///
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- multilabel [--seeds 1,2,3] [--data package-tags] [--results FILE]
/// </summary>
internal static class MultiLabelSuite
{
    private sealed class Row
    {
        public string Tags { get; set; } = "";
        public string Text { get; set; } = "";
    }

    public static int Run(string repo, Func<string, string?> arg)
    {
        string name = arg("--data") ?? "package-tags";
        string folder = Path.Combine(repo, "data", "suite", "text", name);
        if (!File.Exists(Path.Combine(folder, "train.tsv")))
            throw new FileNotFoundException($"'{folder}' has no train.tsv: run eng/prepare-data.sh suite-text first.");
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',').Select(int.Parse).ToList();
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "multilabel-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);
        Row[] Read(string split) => File.ReadLines(Path.Combine(folder, split + ".tsv")).Skip(1).Select(l => l.Split('\t'))
            .Select(f => new Row { Tags = f[0], Text = f[1] }).ToArray();
        var train = Read("train");
        var test = Read("test");
        Console.WriteLine($"{name}: {train.Length} train, {test.Length} test rows");
        foreach (int seed in seeds)
        {
            var ml = new MLContext(seed);
            var trainData = ml.Data.LoadFromEnumerable(train);
            var tags = ml.Transforms.Text.TokenizeIntoWords("TagWords", nameof(Row.Tags), separators: [';'])
                .Append(ml.Transforms.Categorical.OneHotEncoding("Label", "TagWords", Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Bag))
                .Fit(trainData);
            var trainView = tags.Transform(trainData);
            var testView = tags.Transform(ml.Data.LoadFromEnumerable(test));
            Report(results, name, "baseline", seed, train.Length, () => BinaryRelevance(ml, trainView, testView));
            foreach (var (recipe, validation, rate) in new[] { ("defaults", 0.0, 0.0), ("thresholds", 0.1, 0.0), ("thresholds,lr=3e-3", 0.1, 3e-3) })
                Report(results, name, recipe, seed, train.Length, () =>
                {
                    var options = new LoraTextMultiLabelClassifier.Options { Seed = seed, ValidationFraction = validation };
                    if (rate > 0) options.LearningRate = rate;
                    using var model = ml.MultiLabelClassification().Trainers.LoraTextClassifier(options).Fit(trainView);
                    return ml.MultiLabelClassification().Evaluate(model.Transform(testView));
                });
        }
        return 0;
    }

    /// <summary>One FeaturizeText + SDCA logistic regression per label, each predicting at ½ (features from the text only,
    /// sparse as a user's pipeline keeps them).</summary>
    private static MultiLabelMetrics BinaryRelevance(MLContext ml, IDataView train, IDataView test)
    {
        VBuffer<ReadOnlyMemory<char>> slots = default;
        train.Schema["Label"].GetSlotNames(ref slots);
        var names = slots.DenseValues().Select(s => s.ToString()).ToArray();
        var trainTexts = train.GetColumn<string>(nameof(Row.Text)).ToArray();
        var testTexts = test.GetColumn<string>(nameof(Row.Text)).ToArray();
        var trainLabels = train.GetColumn<float[]>("Label").ToArray();
        var testLabels = test.GetColumn<float[]>("Label").ToArray();
        int k = names.Length;
        var scores = testLabels.Select(_ => new float[k]).ToArray();
        var predicted = testLabels.Select(_ => new bool[k]).ToArray();
        var testView = ml.Data.LoadFromEnumerable(testTexts.Select(t => new Binary { Text = t }));
        for (int j = 0; j < k; j++)
        {
            var view = ml.Data.LoadFromEnumerable(trainTexts.Select((t, i) => new Binary { Text = t, Label = trainLabels[i][j] > 0 }));
            var model = ml.Transforms.Text.FeaturizeText("Features", nameof(Binary.Text))
                .Append(ml.BinaryClassification.Trainers.SdcaLogisticRegression()).Fit(view);
            var scored = model.Transform(testView);
            var p = scored.GetColumn<float>("Probability").ToArray();
            var yes = scored.GetColumn<bool>("PredictedLabel").ToArray();
            for (int i = 0; i < p.Length; i++) (scores[i][j], predicted[i][j]) = (p[i], yes[i]);
        }
        return MultiLabelEvaluator.Compute(names, testLabels, scores, predicted);
    }

    private sealed class Binary
    {
        public string Text { get; set; } = "";
        public bool Label { get; set; }
    }

    private static void Report(string results, string dataset, string recipe, int seed, int trainRows, Func<MultiLabelMetrics> run)
    {
        var watch = Stopwatch.StartNew();
        var m = run();
        double seconds = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"  {dataset} {recipe,-10} seed {seed}: micro F1 {m.MicroF1:F3}, macro F1 {m.MacroF1:F3}, exact {m.SubsetAccuracy:F3}, Hamming {m.HammingLoss:F3} in {seconds:F0} s");
        File.AppendAllLines(results, [JsonSerializer.Serialize(new
        {
            dataset, recipe, seed, trainRows, microF1 = Math.Round(m.MicroF1, 4), macroF1 = Math.Round(m.MacroF1, 4),
            subsetAccuracy = Math.Round(m.SubsetAccuracy, 4), hammingLoss = Math.Round(m.HammingLoss, 4), seconds = Math.Round(seconds, 1),
            date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        })]);
    }
}
