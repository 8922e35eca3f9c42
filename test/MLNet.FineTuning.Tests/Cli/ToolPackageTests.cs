using System.Globalization;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>
/// The tool as a user gets it: `dotnet pack` of src/MLNet.FineTuning.Cli into a private feed (a version used once, so no
/// cached copy stands in for it), `dotnet tool install --tool-path` from that feed, then the installed `mlnet-finetune`
/// trains on a tiny image folder (its libtorch) and predicts with the image run's model.onnx (its ONNX Runtime), from a
/// folder outside the repository.
/// </summary>
[Collection(ImageToolRun.Collection)]
public sealed class ToolPackageTests(ImageToolRun run)
{
    [Fact]
    public void PackedTool_InstallsFromAFeed_TrainsAndPredicts()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        string work = Directory.CreateTempSubdirectory("mlnet-finetune-package-").FullName;
        try
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/<configuration>/net10.0
            string feed = Path.Combine(work, "feed"), tools = Path.Combine(work, "tools");
            string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
            Dotnet(TestData.RepoRoot, work, "pack", Path.Combine("src", "MLNet.FineTuning.Cli"), "-c", configuration, "--no-build", "-o", feed, $"-p:Version={version}");
            Dotnet(work, work, "tool", "install", "MLNet.FineTuning.Cli", "--tool-path", tools, "--add-source", feed, "--version", version);
            string tool = Path.Combine(tools, OperatingSystem.IsWindows() ? "mlnet-finetune.exe" : "mlnet-finetune");

            string data = Tool.ImageFolder(work, "train", 4);
            var trained = Installed(tool, work, "image", "--data", data, "--output", Path.Combine(work, "out"), "--image-size", "32",
                                    "--epochs", "1", "--validation-fraction", "0", "--no-baseline");
            Assert.True(trained.ExitCode == 0, trained.ToString());
            Assert.True(File.Exists(Path.Combine(work, "out", "model.onnx")), trained.ToString());

            string image = Directory.GetFiles(run.Test, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal).First();
            var predicted = Installed(tool, work, "predict", "--model", Path.Combine(run.Output, "model.onnx"), "--input", image);
            Assert.True(predicted.ExitCode == 0, predicted.ToString());
            Assert.StartsWith(image + "\t", predicted.Output);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    // The tool package is about 570 MB: NuGet's extraction goes to a folder of this test (NUGET_PACKAGES), not the
    // machine's cache, so that runs do not pile copies up there.
    static void Dotnet(string workingDirectory, string work, params string[] arguments)
    {
        var start = BuiltProgram.StartInfo(arguments[0], arguments[1..]);
        start.WorkingDirectory = workingDirectory;
        if (arguments[0] == "tool") start.Environment["NUGET_PACKAGES"] = Path.Combine(work, "nuget-packages");
        var (exitCode, output, error) = BuiltProgram.Run(start, TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"dotnet {string.Join(' ', arguments)} exited with {exitCode}:\n{output}\n{error}");
    }

    static ToolResult Installed(string tool, string workingDirectory, params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        var (exitCode, output, error) = BuiltProgram.Run(start, TimeSpan.FromMinutes(5));
        return new ToolResult(exitCode, output, error);
    }
}
