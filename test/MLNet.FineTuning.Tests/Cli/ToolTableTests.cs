using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>The tool reads every row of a table a spreadsheet or a script writes, as it was written.</summary>
public sealed class ToolTableTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("mlnet-finetune-table-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    // Semicolons (a spreadsheet's CSV where the decimal mark is a comma), CRLF line ends, a quoted header, a blank line,
    // texts that begin with "//" and "#" (ML.NET's TextLoader drops "//" lines as comments), and a quoted field with a
    // separator, a line break and a doubled quote: twelve rows, all of them read, the quoted one whole.
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
            .. Enumerable.Range(0, 9).Select(i => i % 2 == 0 ? $"plain prose {i};prose" : $"x = {i} + 1;code"),
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
}
