namespace MLNet.FineTuning.Tests.Cli;

/// <summary>Every mistake a user can make on the command line ends with exit code 1 and a message that names what to
/// change, never a stack trace. None of these runs trains.</summary>
public sealed class ToolErrorTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("mlnet-finetune-errors-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    static void AssertUserError(ToolResult result, params string[] mentions)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.DoesNotContain("   at ", result.Output + result.Error);   // no stack trace
        foreach (var m in mentions) Assert.Contains(m, result.Error);
    }

    [Fact]
    public void MissingDataFolder_IsNamed()
    {
        string missing = Path.Combine(root, "no-such-folder");
        AssertUserError(Tool.Run("image", "--data", missing, "--output", Path.Combine(root, "out")), missing);
    }

    // The tool is built with the repository's TorchBackend (cpu by default): --gpu on a build whose libtorch has no CUDA
    // must stop before anything is read or written, never train on the CPU in its place. A CUDA build on a machine with
    // a GPU must train there instead, and say so in the run record.
    [Fact]
    public void Gpu_WithoutCudaBackend_StopsBeforeTraining()
    {
        string output = Path.Combine(root, "out");
        var result = Tool.Run("image", "--data", Tool.ImageFolder(root, "train", 2), "--epochs", "1", "--image-size", "32", "--no-baseline",
                              "--gpu", "0", "--output", output);
        if (TorchSharp.torch.cuda.is_available())
        {
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains("\"cuda:0\"", File.ReadAllText(Path.Combine(output, "finetune.json")));
            return;
        }
        AssertUserError(result, "--gpu 0", "no CUDA device", "README");
        Assert.False(File.Exists(Path.Combine(output, "model.zip")));
    }

    [Fact]
    public void OutputFolderWithFiles_IsRefusedWithoutForce()
    {
        string output = Path.Combine(root, "out");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "model.zip"), "an earlier model");
        AssertUserError(Tool.Run("image", "--data", Tool.ImageFolder(root, "train", 2), "--output", output), "--force", "model.zip");
        Assert.Equal("an earlier model", File.ReadAllText(Path.Combine(output, "model.zip")));
    }

    [Fact]
    public void UnknownTextColumn_ListsTheColumnsThatExist()
    {
        string table = Tool.TextTable(root, "train", 2);
        AssertUserError(Tool.Run("text", "--data", table, "--text-column", "body", "--label-column", "category", "--output", Path.Combine(root, "out")),
                        "--text-column 'body'", "'message'", "'category'");
    }

    [Fact]
    public void SingleClass_IsRefused()
    {
        string train = Path.Combine(root, "one-class");
        Directory.CreateDirectory(Path.Combine(train, "Bag"));
        foreach (var f in Directory.GetFiles(Path.Combine(TestData.FashionRoot, "train", "Bag")).Take(4))
            File.Copy(f, Path.Combine(train, "Bag", Path.GetFileName(f)));
        AssertUserError(Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out")), "one class", "'Bag'");
    }

    [Fact]
    public void TestLabelNeverSeenInTraining_IsNamed()
    {
        string train = Tool.ImageFolder(root, "train", 2);
        string test = Path.Combine(root, "test");
        Directory.CreateDirectory(Path.Combine(test, "Coat"));
        File.Copy(Directory.GetFiles(Path.Combine(TestData.FashionRoot, "test", "Coat"))[0], Path.Combine(test, "Coat", "a.png"));
        AssertUserError(Tool.Run("image", "--data", train, "--test", test, "--validation-fraction", "0", "--output", Path.Combine(root, "out")), "'Coat'", "--test");
    }

    [Fact]
    public void BadOptionValues_AndUnknownOptions_AreRejectedByTheParser()
    {
        string train = Path.Combine(root, "unused");
        var zero = Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out"), "--epochs", "0");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("--epochs must be at least 1", zero.Error);
        var notANumber = Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out"), "--lr", "fast");
        Assert.Equal(1, notANumber.ExitCode);
        Assert.Contains("fast", notANumber.Error);
        var unknown = Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out"), "--learning-speed", "2");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--learning-speed", unknown.Error);
        var decayAboveOne = Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out"), "--layerwise-lr-decay", "1.5");
        Assert.Equal(1, decayAboveOne.ExitCode);
        Assert.Contains("--layerwise-lr-decay must be in (0, 1]; got 1.5", decayAboveOne.Error);
        var balanceByAlone = Tool.Run("image", "--data", train, "--output", Path.Combine(root, "out"), "--balance-by", "lossweights");
        Assert.Equal(1, balanceByAlone.ExitCode);
        Assert.Contains("add --balance-classes", balanceByAlone.Error);
        Assert.False(Directory.Exists(Path.Combine(root, "out")), "a rejected command line writes nothing");
    }

    [Fact]
    public void Predict_WithAMissingModel_IsNamed()
    {
        string missing = Path.Combine(root, "model.zip");
        AssertUserError(Tool.Run("predict", "--model", missing, "--input", "hello"), missing);
    }

    [Fact]
    public void Help_ListsTheCommands()
    {
        var help = Tool.Run("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "image", "text", "predict", "train" }) Assert.Contains(command, help.Output);
    }

    [Fact]
    public void UnreadableImage_IsNamed_AndWithSkipUnreadable_SkippedAndCounted()
    {
        string train = Tool.ImageFolder(root, "train", 6);
        string broken = Path.Combine(train, "Bag", "broken.png");
        File.WriteAllBytes(broken, [.. Enumerable.Range(0, 3000).Select(i => (byte)(i * 7919 % 251))]);   // not an image
        string[] run = ["image", "--data", train, "--image-size", "32", "--epochs", "1", "--batch-size", "8", "--no-baseline", "--validation-fraction", "0"];

        AssertUserError(Tool.Run([.. run, "--output", Path.Combine(root, "refused")]), "broken.png");

        var skipped = Tool.Run([.. run, "--output", Path.Combine(root, "skipped"), "--skip-unreadable"]);
        Assert.True(skipped.ExitCode == 0, skipped.ToString());
        Assert.Contains("--data: 1 unreadable image(s) skipped (broken.png)", skipped.Output);
    }

    // A row with more fields than the header is nearly always a text with an unquoted comma: read by position, part of
    // the text would become its label (a new class of one row), which ML.NET's TextLoader lets through.
    [Theory]
    [InlineData("unquoted.csv", "message,category\n\"fine\",a\ngreat, really great,b\n", "line 3", "3 fields where the header has 2", "double quotes")]
    [InlineData("short.csv", "message,category\n\"fine\",a\nno label\n", "line 3", "1 field where the header has 2")]
    [InlineData("open.csv", "message,category\n\"fine\",a\n\"never closed,b\nlast,a\n", "line 3", "never closed")]
    [InlineData("tail.csv", "message,category\n\"quoted\" and more,a\n", "line 2", "follows the closing double quote")]
    [InlineData("tabs.tsv", "message\tcategory\na text\twith a tab\ta\n", "line 2", "3 fields", "tab")]
    [InlineData("pipes.csv", "message|category\nfine|a\n", "has one column, 'message|category'", "','", "';'")]
    public void MalformedTable_IsRefusedNamingTheLine(string file, string content, params string[] mentions)
    {
        string table = Path.Combine(root, file);
        File.WriteAllText(table, content);
        AssertUserError(Tool.Run("text", "--data", table, "--text-column", "message", "--label-column", "category", "--output", Path.Combine(root, "out")),
                        [table, .. mentions]);
        Assert.False(Directory.Exists(Path.Combine(root, "out")), "a refused table leaves no output folder");
    }

    // Excel's plain "CSV" on Windows writes Windows-1252: read as UTF-8, every accented letter would become U+FFFD.
    [Fact]
    public void TableNotInUtf8_IsRefusedNamingTheLineAndTheByte()
    {
        string table = Path.Combine(root, "cp1252.csv");
        File.WriteAllBytes(table, [.. "message,category\nfine,a\ncaf"u8, 0xE9, .. ",b\n"u8]);
        AssertUserError(Tool.Run("text", "--data", table, "--text-column", "message", "--label-column", "category", "--output", Path.Combine(root, "out")),
                        table, "line 3", "0xE9", "UTF-8");
    }

    // Excel's "Unicode text" is UTF-16 with a byte-order mark, split at tabs, in a .txt file: decoded and split so, the
    // error names the third line's three fields.
    [Fact]
    public void ExcelUnicodeText_IsReadAsUtf16SplitAtTabs()
    {
        string table = Path.Combine(root, "unicode.txt");
        File.WriteAllText(table, "message\tcategory\r\nfiné\ta\r\nbad\trow\textra\r\n", System.Text.Encoding.Unicode);
        AssertUserError(Tool.Run("text", "--data", table, "--text-column", "message", "--label-column", "category", "--output", Path.Combine(root, "out")),
                        table, "line 3", "3 fields where the header has 2", "'tab'");
    }
}
