using System.Text.Json;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>One `mlnet-finetune image` run on a tiny Fashion-MNIST folder (3 classes, 16 training and 8 test images
/// each, 32 px, 2 epochs; classes balanced by loss weights, which on these even classes changes little and shows that
/// the option reaches the estimator and its record), shared by the tests below.</summary>
public sealed class ImageToolRun() : ToolRun("image",
    root => (Tool.ImageFolder(root, "train", 16), Tool.ImageFolder(root, "test", 8)),
    ["--image-size", "32", "--epochs", "2", "--batch-size", "16", "--balance-classes", "--balance-by", "lossweights"])
{
    /// <summary>The collection of the tests that share this run (the tool's and the serving sample's).</summary>
    public const string Collection = "image tool run";
}

[CollectionDefinition(ImageToolRun.Collection)]
public sealed class ImageToolRunCollection : ICollectionFixture<ImageToolRun>;

[Collection(ImageToolRun.Collection)]
public sealed class ImageToolTests(ImageToolRun run)
{
    [Fact]
    public void Image_WritesTheOutputFolder_AndLeavesNoCheckpoint()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        foreach (var file in new[] { "model.zip", "model.onnx", "metrics.json", "finetune.json" })
            Assert.True(new FileInfo(Path.Combine(run.Output, file)) is { Exists: true, Length: > 0 }, $"{file} missing: {run.Result}");
        Assert.False(Directory.Exists(Path.Combine(run.Output, "checkpoint")), "a finished run keeps no checkpoint");
        Assert.Empty(Directory.GetFiles(run.Output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Image_LeavesNothingInTheTemporaryFolder()
    {
        // Until 2026-12-07 every run left its ONNX graph there (ML.NET's copy for ApplyOnnxModel from a stream, never
        // deleted): 60 MB a run for this 3-class ResNet-18, docs/reliability.md.
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string[] left = BuiltProgram.LeftIn(run.Temporary);
        Assert.True(left.Length == 0, "left in the temporary folder: " + string.Join(", ", left));
    }

    [Fact]
    public void Image_Report_HasEveryChartAndThumbnailsOfTheWorstRows()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "metrics.json")));
        var matrix = metrics.RootElement.GetProperty("fineTuned").GetProperty("confusionMatrix").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        int wrong = 24 - Enumerable.Range(0, 3).Sum(i => matrix[i][i]);

        // One thumbnail per misclassified test image, at most 12.
        ReportChecks.AssertReport(run.Output, ["Bag", "Sneaker", "Trouser"], Math.Min(12, wrong));
    }

    [Fact]
    public void Consumption_ProjectBuilds_AndPredictsWhatPredictDoes()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string dll = ConsumptionBuild.BuildAndGetDll(run.Output, run.Root);
        string image = Directory.GetFiles(Path.Combine(run.Test, "Sneaker")).Order(StringComparer.Ordinal).First();

        var (label, scores) = ConsumptionBuild.Predict(dll, image);
        var predicted = Tool.Run("predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", image, "--json", "--top", "3");

        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        using var json = JsonDocument.Parse(predicted.Output);
        var expected = json.RootElement.EnumerateArray().Single();
        Assert.Equal(expected.GetProperty("label").GetString(), label);
        foreach (var s in expected.GetProperty("scores").EnumerateObject())
            Assert.Equal(s.Value.GetDouble(), scores[s.Name], 1e-4);   // the program prints four decimals
        // With no argument it predicts a row of the evaluated data.
        Assert.Contains(ConsumptionBuild.Predict(dll).Label, new[] { "Bag", "Sneaker", "Trouser" });
    }

    [Fact]
    public void Image_MetricsFile_HasBothModels_OnTheTestRows()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "metrics.json")));
        var root = metrics.RootElement;
        Assert.Equal("test", root.GetProperty("evaluatedOn").GetString());
        Assert.Equal(24, root.GetProperty("rows").GetInt32());
        Assert.Equal(["Bag", "Sneaker", "Trouser"], root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).Order());
        foreach (var model in new[] { "fineTuned", "baseline" })
        {
            var m = root.GetProperty(model);
            var matrix = m.GetProperty("confusionMatrix").EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
            Assert.All(matrix, row => Assert.Equal(8, row.Sum()));   // rows are the true classes: 8 test images each
            double accuracy = Enumerable.Range(0, 3).Sum(i => matrix[i][i]) / 24.0;
            Assert.Equal(accuracy, m.GetProperty("microAccuracy").GetDouble(), 6);
            Assert.All(m.GetProperty("perClass").EnumerateArray(), c => Assert.InRange(c.GetProperty("f1").GetDouble(), 0, 1));
        }
        // Trousers, bags and sneakers are easy to tell apart: well above a third.
        Assert.True(root.GetProperty("fineTuned").GetProperty("microAccuracy").GetDouble() > 0.6, run.Result.ToString());
    }

    [Fact]
    public void Predict_OnTheTestFolder_AgreesWithTheMetricsFile()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string temporary = Path.Combine(run.Root, "predict-tmp");
        Directory.CreateDirectory(temporary);
        var predicted = Tool.RunWithTemporaryFolder(temporary, "predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", run.Test, "--json", "--top", "3");
        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        // The loaded model is disposed before the tool exits, so ML.NET's copy of its graph does not stay behind.
        Assert.Empty(BuiltProgram.LeftIn(temporary));
        using var json = JsonDocument.Parse(predicted.Output);
        var rows = json.RootElement.EnumerateArray().ToList();
        Assert.Equal(24, rows.Count);
        foreach (var row in rows)
        {
            var scores = row.GetProperty("scores").EnumerateObject().ToList();
            Assert.Equal(3, scores.Count);
            Assert.Equal(scores.MaxBy(s => s.Value.GetSingle())!.Name, row.GetProperty("label").GetString());
            Assert.InRange(scores.Sum(s => s.Value.GetSingle()), 0.999f, 1.001f);
        }
        // The reloaded model.zip predicts what the in-process model was scored with.
        double accuracy = rows.Count(r => Path.GetFileName(Path.GetDirectoryName(r.GetProperty("input").GetString()))
                                         == r.GetProperty("label").GetString()) / 24.0;
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("fineTuned").GetProperty("microAccuracy").GetDouble(), accuracy, 6);
    }

    [Fact]
    public void Predict_WithTheModelOnnx_SameLabelsAndScoresAsWithTheModelZip()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        PredictAnswers.AssertOnnxMatchesZip(run.Output, run.Test);
    }

    [Fact]
    public void TrainConfig_RerunsTheRecordedRun_ToTheSameOnnxBytes()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string again = Path.Combine(run.Root, "again");
        var rerun = Tool.Run("train", "--config", Path.Combine(run.Output, "finetune.json"), "--output", again);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.True(File.ReadAllBytes(Path.Combine(run.Output, "model.onnx")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(again, "model.onnx"))),
                    "the rerun's model.onnx differs from the recorded run's");
        using var record = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(again, "finetune.json")));
        Assert.Equal("32", record.RootElement.GetProperty("arguments").GetProperty("--image-size").GetString());
        Assert.Equal(32, record.RootElement.GetProperty("options").GetProperty("ImageSize").GetInt32());
        Assert.True(record.RootElement.GetProperty("options").GetProperty("BalanceClasses").GetBoolean());
        Assert.Equal("LossWeights", record.RootElement.GetProperty("options").GetProperty("BalanceClassesBy").GetString());
        Assert.Equal(2, record.RootElement.GetProperty("epochs").GetArrayLength());
    }

    [Fact]
    public void Predict_ModelZipWithAnEntryInAnUnknownCompression_ExitsWithOneLineNamingIt()
    {
        // Found by fuzzing: ML.NET builds the transformers of a model.zip by reflection, so a damaged entry deep inside
        // surfaced as a TargetInvocationException around the zip's InvalidDataException (so for every entry but the
        // chain's own and the schema). The ONNX model entry's compression method (central directory record, offset 10;
        // its name at offset 46) is set to one no reader knows.
        using var folder = new TempDirectory();
        var bytes = File.ReadAllBytes(Path.Combine(run.Output, "model.zip"));
        int record = -1;
        for (int i = 0; i + 46 <= bytes.Length && record < 0; i++)
            if (bytes[i] == 'P' && bytes[i + 1] == 'K' && bytes[i + 2] == 1 && bytes[i + 3] == 2
                && System.Text.Encoding.UTF8.GetString(bytes, i + 46, bytes[i + 28] | bytes[i + 29] << 8).EndsWith("/OnnxModel", StringComparison.Ordinal))
                record = i;
        Assert.True(record > 0, "no OnnxModel entry in the model.zip");
        bytes[record + 10] = 99;
        bytes[record + 11] = 0;
        string damaged = folder.File("model.zip");
        File.WriteAllBytes(damaged, bytes);

        var result = Tool.Run("predict", "--model", damaged, "--input", Directory.GetFiles(run.Test, "*.png", SearchOption.AllDirectories)[0]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(damaged, result.Error);
        Assert.DoesNotContain("   at ", result.Output + result.Error);
    }

    [Theory]
    [InlineData("model.zip", 0.5)]
    [InlineData("model.zip", 0.99)]
    [InlineData("model.onnx", 0.1)]
    [InlineData("model.onnx", 0.5)]
    [InlineData("model.onnx", 0.99)]
    public void Predict_TruncatedModelFile_ExitsWithOneLineNamingIt(string file, double keep)
    {
        // A model cut off in a copy or an upload: refused with a message, never a stack trace or a wrong answer.
        using var folder = new TempDirectory();
        var bytes = File.ReadAllBytes(Path.Combine(run.Output, file));
        string cut = folder.File(file);
        File.WriteAllBytes(cut, bytes[..(int)(bytes.Length * keep)]);

        var result = Tool.Run("predict", "--model", cut, "--input", Directory.GetFiles(run.Test, "*.png", SearchOption.AllDirectories)[0]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(cut, result.Error);
        Assert.DoesNotContain("   at ", result.Output + result.Error);
    }
}
