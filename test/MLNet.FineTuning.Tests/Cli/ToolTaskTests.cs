using System.Globalization;
using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>`mlnet-finetune text --task regression` on a tiny table: committed SpamAssassin e-mails (first 300 characters)
/// with 1 for spam and 0 for ham as the number to predict, 16 training and 8 test rows per class, 2 epochs.</summary>
public sealed class RegressionToolRun() : ToolRun("text",
    root => (Table(root, "train", 16), Table(root, "test", 8)),
    ["--task", "regression", "--text-column", "message", "--label-column", "spam", "--max-length", "32", "--epochs", "2", "--batch-size", "8"])
{
    static string Table(string root, string split, int perClass)
    {
        var lines = File.ReadLines(Path.Combine(TestData.SpamAssassinRoot, $"{split}.tsv")).Skip(1).Select(l => l.Split('\t'))
            .Where(f => f[0] is "spam" or "easy_ham").GroupBy(f => f[0]).OrderBy(g => g.Key, StringComparer.Ordinal).SelectMany(g => g.Take(perClass))
            .Select(f => $"\"{f[1][..Math.Min(300, f[1].Length)].Replace("\"", "\"\"")}\",{(f[0] == "spam" ? 1 : 0)}");
        string path = Path.Combine(root, $"{split}-regression.csv");
        File.WriteAllLines(path, ["message,spam", .. lines]);
        return path;
    }
}

/// <summary>`mlnet-finetune text --task multilabel` on the committed package-tags subset (a package's description → its
/// debtags, separated by ';'): its 400 training and first 32 test rows, 2 epochs.</summary>
public sealed class LabelSetToolRun() : ToolRun("text",
    root => (Table(root, "train", 400), Table(root, "test", 32)),
    ["--task", "multilabel", "--text-column", "description", "--label-column", "tags", "--max-length", "32", "--epochs", "2", "--batch-size", "8"])
{
    public static IReadOnlyList<(string Text, string[] Tags)> Rows(string split, int count) =>
        [.. File.ReadLines(Path.Combine(TestData.RepoRoot, "samples", "data", "package-tags", $"{split}.tsv")).Skip(1).Take(count)
            .Select(l => l.Split('\t')).Select(f => (f[1], f[0].Split(';', StringSplitOptions.RemoveEmptyEntries)))];

    static string Table(string root, string split, int count)
    {
        string path = Path.Combine(root, $"{split}-tags.csv");
        File.WriteAllLines(path, ["description,tags", .. Rows(split, count).Select(r => $"\"{r.Text.Replace("\"", "\"\"")}\",{string.Join(';', r.Tags)}")]);
        return path;
    }
}

/// <summary>`mlnet-finetune image --task multilabel` on a table of committed Fashion-MNIST images with the attributes of
/// what they show (as FineTuneImageMultiLabelClassifierTests), 8 training and 4 test images per class, 32 px, 1 epoch.</summary>
public sealed class ImageLabelSetToolRun() : ToolRun("image",
    root => (Table(root, "train", 8), Table(root, "test", 4)),
    ["--task", "multilabel", "--label-column", "tags", "--image-size", "32", "--epochs", "1", "--batch-size", "8"])
{
    static readonly Dictionary<string, string> Attributes = new()
    {
        ["Pullover"] = "upper-body", ["Trouser"] = "lower-body;covers-ankle", ["Sandal"] = "footwear", ["Ankle boot"] = "footwear;covers-ankle",
    };

    static string Table(string root, string split, int perClass)
    {
        string path = Path.Combine(root, $"{split}-images.csv");
        File.WriteAllLines(path, ["path,tags", .. TestData.Fashion(split, perClass, [.. Attributes.Keys]).Select(r => $"{r.ImagePath},{Attributes[r.Label]}")]);
        return path;
    }
}

public sealed class ToolTaskTests(RegressionToolRun regression, LabelSetToolRun labelSet, ImageLabelSetToolRun images)
    : IClassFixture<RegressionToolRun>, IClassFixture<LabelSetToolRun>, IClassFixture<ImageLabelSetToolRun>
{
    [Fact]
    public void ImageMultiLabel_FromATable_WritesTheTasksOutputs_AndAFolderOfClassesIsRefused()
    {
        Assert.True(images.Result.ExitCode == 0, images.Result.ToString());
        using (var metrics = Json(images.Output, "metrics.json"))
        {
            Assert.Equal("multilabel", metrics.RootElement.GetProperty("task").GetString());
            Assert.Equal(["covers-ankle", "footwear", "lower-body", "upper-body"],
                metrics.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()).Order());
        }
        Assert.True(new FileInfo(Path.Combine(images.Output, "model.onnx")).Length > 0);
        Assert.Contains("## Per label", File.ReadAllText(Path.Combine(images.Output, "report.md")));

        // The class-folder form has one class per image: refused for multi-label, naming the table it needs.
        var folder = Tool.Run("image", "--task", "multilabel", "--data", TestData.FashionRoot, "--output", Path.Combine(images.Root, "refused"));
        Assert.NotEqual(0, folder.ExitCode);
        Assert.Contains("is a folder", folder.Error);
        Assert.Contains("CSV/TSV table", folder.Error);
    }

    static JsonDocument Json(string folder, string file) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, file)));

    static List<string> Texts(string csv) =>
        [.. File.ReadLines(csv).Skip(1).Select(l => l[1..l.LastIndexOf("\",", StringComparison.Ordinal)].Replace("\"\"", "\""))];

    [Fact]
    public void Regression_WritesRegressionMetricsBesideTheBaseline_AndPredictGivesTheSameNumbers()
    {
        Assert.True(regression.Result.ExitCode == 0, regression.Result.ToString());
        using var metrics = Json(regression.Output, "metrics.json");
        Assert.Equal("regression", metrics.RootElement.GetProperty("task").GetString());
        double r2 = metrics.RootElement.GetProperty("fineTuned").GetProperty("rSquared").GetDouble();
        Assert.True(double.IsFinite(metrics.RootElement.GetProperty("baseline").GetProperty("rSquared").GetDouble()));
        using (var record = Json(regression.Output, "finetune.json"))
        {
            Assert.Equal("regression", record.RootElement.GetProperty("task").GetString());
            Assert.Equal(r2, record.RootElement.GetProperty("result").GetProperty("R²").GetDouble(), 9);
        }
        string md = File.ReadAllText(Path.Combine(regression.Output, "report.md"));
        Assert.Contains("## Largest errors", md);
        Assert.DoesNotContain("accuracy per epoch", md);
        Assert.Contains("public float Score", File.ReadAllText(Directory.GetFiles(Path.Combine(regression.Output, "consumption"), "*.consumption.cs").Single()));

        // predict on model.zip: one number per text; their R² against the labels is the one metrics.json reports.
        var texts = Texts(regression.Test);
        var truth = File.ReadLines(regression.Test).Skip(1).Select(l => double.Parse(l[(l.LastIndexOf(',') + 1)..], CultureInfo.InvariantCulture)).ToList();
        string file = Path.Combine(regression.Root, "regression-texts.txt");
        File.WriteAllLines(file, texts);
        var predicted = Tool.Run("predict", "--model", Path.Combine(regression.Output, "model.zip"), "--input", file, "--json");
        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        using var json = JsonDocument.Parse(predicted.Output);
        var values = json.RootElement.EnumerateArray().Select(p => double.Parse(p.GetProperty("label").GetString()!, CultureInfo.InvariantCulture)).ToList();
        double mean = truth.Average();
        double ss = truth.Zip(values).Sum(p => (p.First - p.Second) * (p.First - p.Second)), total = truth.Sum(t => (t - mean) * (t - mean));
        Assert.Equal(r2, 1 - ss / total, 3);

        // predict on model.onnx (ONNX Runtime and the runtime package alone, as a service runs it): the same numbers.
        var onnx = Tool.Run("predict", "--model", Path.Combine(regression.Output, "model.onnx"), "--input", file, "--json");
        Assert.True(onnx.ExitCode == 0, onnx.ToString());
        using var onnxJson = JsonDocument.Parse(onnx.Output);
        var onnxValues = onnxJson.RootElement.EnumerateArray().Select(p => p.GetProperty("scores").GetProperty("value").GetDouble()).ToList();
        Assert.Equal(values.Count, onnxValues.Count);
        Assert.All(values.Zip(onnxValues), p => Assert.Equal(p.First, p.Second, 1e-4));
    }

    [Fact]
    public async Task Regression_ServedByTheOnnxServingSample_AnswersTheNumbers()
    {
        Assert.True(regression.Result.ExitCode == 0, regression.Result.ToString());
        var texts = Texts(regression.Test).Take(4).ToList();
        using var model = MLNet.FineTuning.Runtime.Onnx.ExportedClassifier.Load(regression.Output);
        var expected = model.PredictTexts(texts);

        var answers = await Serving.ServingAnswers.Post(regression.Served(),
            new StringContent(JsonSerializer.Serialize(texts.Select(t => new { text = t })), System.Text.Encoding.UTF8, "application/json"));

        Assert.True(model.IsRegression);
        Assert.Equal(expected.Select(p => (double)p.Value!.Value), answers.EnumerateArray().Select(a => a.GetProperty("value").GetDouble()),
            new Tolerance(1e-5));
        Assert.All(answers.EnumerateArray(), a => Assert.False(a.TryGetProperty("label", out _)));
    }

    [Fact]
    public async Task MultiLabel_ServedByTheOnnxServingSample_AnswersTheLabelSetsOfPredict()
    {
        Assert.True(labelSet.Result.ExitCode == 0, labelSet.Result.ToString());
        var texts = LabelSetToolRun.Rows("test", 6).Select(r => r.Text).ToList();
        using var model = MLNet.FineTuning.Runtime.Onnx.ExportedClassifier.Load(labelSet.Output);
        var expected = model.PredictTexts(texts);

        var answers = await Serving.ServingAnswers.Post(labelSet.Served(),
            new StringContent(JsonSerializer.Serialize(texts.Select(t => new { text = t })), System.Text.Encoding.UTF8, "application/json"));

        Assert.True(model.IsMultiLabel);
        Assert.Equal(model.ClassNames.Count, model.Thresholds.Count);
        var list = answers.EnumerateArray().ToList();
        for (int i = 0; i < texts.Count; i++)
        {
            Assert.Equal(expected[i].Labels, list[i].GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
            // Each label is predicted exactly where its probability reaches its threshold.
            Assert.Equal(expected[i].Labels, model.ClassNames.Where((_, j) => expected[i].Scores[j] >= model.Thresholds[j]));
        }
    }

    [Fact]
    public void Consumption_RegressionAndMultiLabelProjectsBuild_AndPrintWhatPredictDoes()
    {
        Assert.True(regression.Result.ExitCode == 0, regression.Result.ToString());
        Assert.True(labelSet.Result.ExitCode == 0, labelSet.Result.ToString());
        string text = Texts(regression.Test)[0];
        string dll = ConsumptionBuild.BuildAndGetDll(regression.Output, Path.Combine(regression.Root, "consumption-work"));
        string printed = Assert.Single(ConsumptionBuild.Lines(dll, text), l => l.StartsWith("predicted value: ", StringComparison.Ordinal));
        var value = Tool.Run("predict", "--model", Path.Combine(regression.Output, "model.zip"), "--input", text, "--json");
        Assert.True(value.ExitCode == 0, value.ToString());
        using (var json = JsonDocument.Parse(value.Output))
            Assert.Equal(json.RootElement[0].GetProperty("scores").GetProperty("value").GetDouble(),
                double.Parse(printed["predicted value: ".Length..], CultureInfo.InvariantCulture), 4);

        string tagged = LabelSetToolRun.Rows("test", 1)[0].Text;
        dll = ConsumptionBuild.BuildAndGetDll(labelSet.Output, Path.Combine(labelSet.Root, "consumption-work"));
        printed = Assert.Single(ConsumptionBuild.Lines(dll, tagged), l => l.StartsWith("labels:", StringComparison.Ordinal));
        var labels = Tool.Run("predict", "--model", Path.Combine(labelSet.Output, "model.zip"), "--input", tagged, "--json");
        Assert.True(labels.ExitCode == 0, labels.ToString());
        using (var json = JsonDocument.Parse(labels.Output))
            Assert.Equal(json.RootElement[0].GetProperty("label").GetString()!.Split(';', StringSplitOptions.RemoveEmptyEntries),
                printed["labels:".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    sealed class Tolerance(double within) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= within;
        public int GetHashCode(double value) => 0;
    }

    [Fact]
    public void Regression_ALabelThatIsNotANumber_IsRefusedNamingTheRow()
    {
        string root = Directory.CreateTempSubdirectory("mlnet-finetune-regression-bad-").FullName;
        try
        {
            string data = Path.Combine(root, "bad.csv");
            File.WriteAllLines(data, ["message,spam", "\"a\",1", "\"b\",0", "\"c\",lots"]);
            var result = Tool.Run("text", "--task", "regression", "--data", data, "--text-column", "message", "--label-column", "spam", "--output", Path.Combine(root, "out"));
            Assert.NotEqual(0, result.ExitCode);
            Assert.Contains("row 4", result.Error);
            Assert.Contains("'lots'", result.Error);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void MultiLabel_WritesPerLabelFigures_AndPredictAgreesWithTheMetricsFile()
    {
        Assert.True(labelSet.Result.ExitCode == 0, labelSet.Result.ToString());
        using var metrics = Json(labelSet.Output, "metrics.json");
        Assert.Equal("multilabel", metrics.RootElement.GetProperty("task").GetString());
        var names = metrics.RootElement.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Contains("role::program", names);
        var fine = metrics.RootElement.GetProperty("fineTuned");
        Assert.Equal(names.Count, fine.GetProperty("perLabel").GetArrayLength());
        Assert.True(metrics.RootElement.GetProperty("baseline").TryGetProperty("microF1", out _));
        string md = File.ReadAllText(Path.Combine(labelSet.Output, "report.md"));
        Assert.Contains("## Per label", md);
        Assert.Contains("LabelNames", File.ReadAllText(Directory.GetFiles(Path.Combine(labelSet.Output, "consumption"), "*.consumption.cs").Single()));

        // predict's label sets on the test texts give the micro F1 that metrics.json reports.
        var rows = LabelSetToolRun.Rows("test", 32);
        string file = Path.Combine(labelSet.Root, "tag-texts.txt");
        File.WriteAllLines(file, rows.Select(r => r.Text));
        var predicted = Tool.Run("predict", "--model", Path.Combine(labelSet.Output, "model.zip"), "--input", file, "--json");
        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        using var json = JsonDocument.Parse(predicted.Output);
        var sets = json.RootElement.EnumerateArray().Select(p => p.GetProperty("label").GetString()!.Split(';', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(rows.Count, sets.Count);
        int tp = rows.Zip(sets).Sum(p => p.Second.Intersect(p.First.Tags.Intersect(names)).Count());
        int predictedCount = sets.Sum(s => s.Length), actual = rows.Sum(r => r.Tags.Intersect(names).Count());
        Assert.Equal(fine.GetProperty("microF1").GetDouble(), 2.0 * tp / (predictedCount + actual), 6);

        // predict on model.onnx: the same label sets (the thresholds travel in its metadata).
        var onnx = Tool.Run("predict", "--model", Path.Combine(labelSet.Output, "model.onnx"), "--input", file, "--json");
        Assert.True(onnx.ExitCode == 0, onnx.ToString());
        using var onnxJson = JsonDocument.Parse(onnx.Output);
        Assert.Equal(json.RootElement.EnumerateArray().Select(p => p.GetProperty("label").GetString()),
            onnxJson.RootElement.EnumerateArray().Select(p => p.GetProperty("label").GetString()));
    }
}
