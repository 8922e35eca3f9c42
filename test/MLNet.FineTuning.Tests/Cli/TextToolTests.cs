using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>One `mlnet-finetune text` run on a tiny SpamAssassin table (3 classes, 12 training and 6 test e-mails each,
/// 32 tokens, 2 epochs), shared by the tests below.</summary>
public sealed class TextToolRun() : ToolRun("text",
    root => (Tool.TextTable(root, "train", 12), Tool.TextTable(root, "test", 6)),
    ["--text-column", "message", "--label-column", "category", "--max-length", "32", "--epochs", "2", "--batch-size", "8"])
{
    /// <summary>The collection of the tests that share this run (the tool's and the serving sample's).</summary>
    public const string Collection = "text tool run";
}

[CollectionDefinition(TextToolRun.Collection)]
public sealed class TextToolRunCollection : ICollectionFixture<TextToolRun>;

[Collection(TextToolRun.Collection)]
public sealed class TextToolTests(TextToolRun run)
{
    [Fact]
    public void Text_WritesModelOnnxAndTokenizerFiles()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        foreach (var file in new[] { "model.zip", "model.onnx", "vocab.txt", "tokenizer_config.json", "metrics.json", "finetune.json" })
            Assert.True(new FileInfo(Path.Combine(run.Output, file)) is { Exists: true, Length: > 0 }, $"{file} missing: {run.Result}");
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "tokenizer_config.json")));
        Assert.Equal(32, config.RootElement.GetProperty("model_max_length").GetInt32());
    }

    [Fact]
    public void Text_LeavesNothingInTheTemporaryFolder()
    {
        // ImageToolTests.Image_LeavesNothingInTheTemporaryFolder: the MiniLM graph was 87 MB a run.
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string[] left = BuiltProgram.LeftIn(run.Temporary);
        Assert.True(left.Length == 0, "left in the temporary folder: " + string.Join(", ", left));
    }

    [Fact]
    public void Text_Report_HasEveryChartAndSnippetsOfTheWorstRows()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        ReportChecks.AssertReport(run.Output, ["spam", "easy_ham", "hard_ham"], expectedExamples: 0);   // texts show as snippets, not pictures
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "metrics.json")));
        var matrix = metrics.RootElement.GetProperty("fineTuned").GetProperty("confusionMatrix").EnumerateArray()
            .Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();
        int wrong = matrix.Sum(r => r.Sum()) - Enumerable.Range(0, matrix.Length).Sum(i => matrix[i][i]);
        string md = File.ReadAllText(Path.Combine(run.Output, "report.md"));
        int shown = md[md.IndexOf("## Worst-classified examples", StringComparison.Ordinal)..md.IndexOf("## Options", StringComparison.Ordinal)]
            .Split('\n').Count(l => l.StartsWith("| ", StringComparison.Ordinal)) - 1;   // minus the header row
        Assert.Equal(Math.Min(12, wrong), Math.Max(0, shown));
    }

    [Fact]
    public void Predict_OnTheTestTexts_AgreesWithTheMetricsFile_AndOnTheTableWithTextColumn()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        // One text per line, in the order of the test table; the CSV quotes them, the .txt file does not.
        var rows = File.ReadLines(run.Test).Skip(1).Select(l => (Text: l[1..l.LastIndexOf("\",", StringComparison.Ordinal)].Replace("\"\"", "\""), Label: l[(l.LastIndexOf(',') + 1)..])).ToList();
        Assert.All(rows, r => Assert.DoesNotContain('\n', r.Text));
        string texts = Path.Combine(run.Root, "texts.txt");
        File.WriteAllLines(texts, rows.Select(r => r.Text));
        var predicted = Tool.Run("predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", texts, "--json");
        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        using var json = JsonDocument.Parse(predicted.Output);
        var labels = json.RootElement.EnumerateArray().Select(p => p.GetProperty("label").GetString()).ToList();
        Assert.Equal(rows.Count, labels.Count);
        double accuracy = rows.Zip(labels).Count(p => p.First.Label == p.Second) / (double)rows.Count;
        using var metrics = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(run.Output, "metrics.json")));
        Assert.Equal(metrics.RootElement.GetProperty("fineTuned").GetProperty("microAccuracy").GetDouble(), accuracy, 6);
        Assert.True(metrics.RootElement.TryGetProperty("baseline", out _));

        // The test table itself, its text column named: the same texts, the same labels.
        var fromTable = Tool.Run("predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", run.Test, "--text-column", "message", "--json");
        Assert.True(fromTable.ExitCode == 0, fromTable.ToString());
        using var tableJson = JsonDocument.Parse(fromTable.Output);
        Assert.Equal(rows.Select(r => r.Text), tableJson.RootElement.EnumerateArray().Select(p => p.GetProperty("input").GetString()));
        Assert.Equal(labels, tableJson.RootElement.EnumerateArray().Select(p => p.GetProperty("label").GetString()));
        // Without the column named, read by lines, its header and its labels would be scored as texts: refused.
        var refused = Tool.Run("predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", run.Test);
        Assert.True(refused.ExitCode == 1 && refused.Error.Contains("--text-column", StringComparison.Ordinal), refused.ToString());
    }

    [Fact]
    public void Predict_WithTheModelOnnx_SameLabelsAndScoresAsWithTheModelZip()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string texts = Path.Combine(run.Root, "onnx-texts.txt");
        File.WriteAllLines(texts, ["Subject: cheap meds, no prescription needed. Click here!", "Hi Bob, the meeting moved to 3pm.", "Re: razor and spamassassin 2.50"]);
        PredictAnswers.AssertOnnxMatchesZip(run.Output, texts);
    }

    [Fact]
    public void Consumption_ProjectBuilds_AndPredictsWhatPredictDoes()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string dll = ConsumptionBuild.BuildAndGetDll(run.Output, run.Root);
        string text = "Subject: cheap meds, no prescription needed. Click here to order now!";

        var (label, scores) = ConsumptionBuild.Predict(dll, text);
        var predicted = Tool.Run("predict", "--model", Path.Combine(run.Output, "model.zip"), "--input", text, "--json", "--top", "3");

        Assert.True(predicted.ExitCode == 0, predicted.ToString());
        using var json = JsonDocument.Parse(predicted.Output);
        var expected = json.RootElement.EnumerateArray().Single();
        Assert.Equal(expected.GetProperty("label").GetString(), label);
        foreach (var s in expected.GetProperty("scores").EnumerateObject())
            Assert.Equal(s.Value.GetDouble(), scores[s.Name], 1e-4);
    }
}
