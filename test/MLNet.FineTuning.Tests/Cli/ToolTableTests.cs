using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>The tool reads every row of a table a spreadsheet or a script writes, as it was written.</summary>
public sealed class ToolTableTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("mlnet-finetune-table-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    // Semicolons (a spreadsheet's CSV where the decimal mark is a comma), CRLF line ends, a quoted header, a blank line,
    // texts that begin with "//" and "#" (ML.NET's TextLoader drops "//" lines as comments), and a quoted field with a
    // separator, a line break and a doubled quote: twelve rows, all of them read, the quoted one whole. One label is
    // written "Code" beside "code": trained as the data says, with a note that they differ only in case.
    [Fact]
    public void SemicolonTable_WithQuotedLineBreaksAndCommentLikeTexts_EveryRowIsRead()
    {
        const string quoted = "first line; \"quoted\" word\nsecond line, longest text of all";
        string[] lines =
        [
            "\"message\";\"category\"",
            "// a text that looks like a comment;code",
            "#hashtag text;code",
            $"\"{quoted.Replace("\"", "\"\"")}\";prose",
            "",
            .. Enumerable.Range(0, 9).Select(i => i % 2 == 0 ? $"plain prose {i};prose" : $"x = {i} + 1;{(i == 1 ? "Code" : "code")}"),
        ];
        string table = Path.Combine(root, "table.csv");
        File.WriteAllText(table, string.Join("\r\n", lines) + "\r\n");
        string output = Path.Combine(root, "out");

        var result = Tool.Run("text", "--data", table, "--text-column", "message", "--label-column", "category", "--epochs", "1",
                              "--max-length", "16", "--batch-size", "8", "--no-baseline", "--output", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "finetune.json")));
        var data = run.RootElement.GetProperty("data");
        Assert.Equal(12, data.GetProperty("trainRows").GetInt32() + data.GetProperty("validationRows").GetInt32());
        Assert.Contains($"longest {quoted.Length})", data.GetProperty("inputs").GetString());
        Assert.Contains("note: the classes 'Code', 'code' differ only in letter case or spaces", result.Output);
        Assert.Contains("note: no validation rows of 'Code' (1 training row)", result.Output);   // a class of one row
    }

    // A table written on Windows names its images with '\' (images\Bag\1.png): the tool finds them on Linux too.
    [Fact]
    public void ImageTable_WithWindowsPaths_FindsEveryImage()
    {
        string images = Tool.ImageFolder(root, "train", 4);
        var rows = Directory.GetFiles(images, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(f => $"{Path.GetRelativePath(root, f).Replace('/', '\\')},{Path.GetFileName(Path.GetDirectoryName(f))}");
        string table = Path.Combine(root, "images.csv");
        File.WriteAllLines(table, ["path,label", .. rows]);
        string output = Path.Combine(root, "out");

        var result = Tool.Run("image", "--data", table, "--image-size", "32", "--epochs", "1", "--batch-size", "8", "--no-baseline", "--output", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "finetune.json")));
        var data = run.RootElement.GetProperty("data");
        Assert.Equal(12, data.GetProperty("trainRows").GetInt32() + data.GetProperty("validationRows").GetInt32());
    }

    [Fact]
    public void LayerwiseDecay_ReachesTheEstimator_AndItsRecord()
    {
        string output = Path.Combine(root, "out");

        var result = Tool.Run("image", "--data", Tool.ImageFolder(root, "train", 4), "--image-size", "32", "--epochs", "1", "--batch-size", "8",
                              "--layerwise-lr-decay", "0.7", "--no-baseline", "--output", output);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var run = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "finetune.json")));
        Assert.Equal(0.7, run.RootElement.GetProperty("options").GetProperty("LayerwiseLearningRateDecay").GetDouble());
        Assert.Equal("0.7", run.RootElement.GetProperty("arguments").GetProperty("--layerwise-lr-decay").GetString());
    }

    // A model trained on pairs answers single texts too, from inputs unlike its training: predict reads both columns of
    // a table and refuses a lone text, for model.zip (its ONNX metadata inside) and model.onnx alike, with the same answers.
    [Fact]
    public void TextPairs_PredictReadsBothColumns_AndRefusesALoneText()
    {
        string train = Path.Combine(TestData.RepoRoot, "samples", "data", "package-pairs", "train.tsv");
        string output = Path.Combine(root, "out");
        var trained = Tool.Run("text", "--data", train, "--text-column", "Name", "--second-text-column", "Text", "--label-column", "Label",
                               "--epochs", "1", "--max-length", "32", "--no-baseline", "--output", output);
        Assert.True(trained.ExitCode == 0, trained.ToString());
        string test = Path.Combine(TestData.RepoRoot, "samples", "data", "package-pairs", "test.tsv");

        var answers = new[] { "model.zip", "model.onnx" }.Select(model =>
        {
            var lone = Tool.Run("predict", "--model", Path.Combine(output, model), "--input", "anope");
            Assert.True(lone.ExitCode == 1 && lone.Error.Contains("pairs of texts", StringComparison.Ordinal), lone.ToString());
            var pairs = Tool.Run("predict", "--model", Path.Combine(output, model), "--input", test, "--text-column", "Name", "--second-text-column", "Text", "--json");
            Assert.True(pairs.ExitCode == 0, pairs.ToString());
            using var json = JsonDocument.Parse(pairs.Output);
            return json.RootElement.EnumerateArray().Select(p => (Input: p.GetProperty("input").GetString()!, Label: p.GetProperty("label").GetString()!,
                Match: p.GetProperty("scores").GetProperty("match").GetSingle())).ToList();
        }).ToList();

        Assert.Equal(200, answers[0].Count);
        Assert.Equal("afl-clang ‖ OpenGL context support for GTK+ (development files)", answers[0][0].Input);   // both texts of the first test pair
        for (int i = 0; i < answers[0].Count; i++)
        {
            Assert.Equal(answers[0][i].Label, answers[1][i].Label);
            Assert.Equal(answers[0][i].Match, answers[1][i].Match, 1e-4);
        }
    }
}
