using System.Diagnostics;
using System.Globalization;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>
/// Builds and runs the consumption project a run generated, as a user does: `dotnet build` on its own project, with
/// MLNet.FineTuning.Runtime(.Images) packed from this repository's build into a private feed under a version used once
/// (a version already in NuGet's cache would be taken from there, whatever its content).
/// </summary>
internal static class ConsumptionBuild
{
    public static string BuildAndGetDll(string outputFolder, string workFolder)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;   // bin/<configuration>/net10.0
        string feed = Path.Combine(workFolder, "feed");
        string version = "0.1.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        foreach (var project in new[] { "MLNet.FineTuning.Runtime", "MLNet.FineTuning.Runtime.Images" })
            Dotnet(TestData.RepoRoot, "pack", Path.Combine("src", project), "-c", configuration, "--no-build", "-o", feed, $"-p:Version={version}");
        string folder = Path.Combine(outputFolder, "consumption");
        string csproj = Assert.Single(Directory.GetFiles(folder, "*.Consumption.csproj"));
        string bin = Path.Combine(workFolder, "consumption-bin");
        Dotnet(folder, "build", csproj, "-o", bin, $"-p:MLNetFineTuningRuntimeVersion={version}", $"-p:RestoreAdditionalProjectSources={feed}");
        Assert.False(File.Exists(Path.Combine(bin, "TorchSharp.dll")), "the consumption project must not need TorchSharp");
        return Path.Combine(bin, Path.GetFileNameWithoutExtension(csproj) + ".dll");
    }

    /// <summary>Runs the built program with <paramref name="arguments"/>; returns what it printed, line by line.</summary>
    public static string[] Lines(string dll, params string[] arguments) =>
        RunProgram(dll, arguments).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Runs the built program with <paramref name="arguments"/>; returns the label and the scores it printed.</summary>
    public static (string Label, Dictionary<string, float> Scores) Predict(string dll, params string[] arguments)
    {
        string output = RunProgram(dll, arguments);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string label = lines.Single(l => l.StartsWith("label: ", StringComparison.Ordinal))["label: ".Length..];
        var scores = lines.Where(l => !l.StartsWith("label: ", StringComparison.Ordinal))
            .Select(l => l.Split(": ")).ToDictionary(p => p[0], p => float.Parse(p[1], CultureInfo.InvariantCulture));
        return (label, scores);
    }

    /// <summary>Runs the built program with a temporary folder of its own, and checks that it left nothing there: its
    /// Program.cs ends with Unload, without which ML.NET's copy of the model's graph (tens of MB) stayed after every run.</summary>
    static string RunProgram(string dll, string[] arguments)
    {
        string temporary = Directory.CreateTempSubdirectory("mlnet-consumption-tmp-").FullName;
        try
        {
            var start = BuiltProgram.StartInfo(dll, arguments);
            start.Environment["TMPDIR"] = temporary;
            string output = Run(start);
            string[] left = BuiltProgram.LeftIn(temporary);
            Assert.True(left.Length == 0, "the consumption program left in its temporary folder: " + string.Join(", ", left));
            return output;
        }
        finally
        {
            Directory.Delete(temporary, recursive: true);
        }
    }

    static void Dotnet(string workingDirectory, params string[] arguments)
    {
        var start = BuiltProgram.StartInfo(arguments[0], arguments[1..]);
        start.WorkingDirectory = workingDirectory;
        Run(start);
    }

    static string Run(ProcessStartInfo start)
    {
        var (exitCode, output, error) = BuiltProgram.Run(start, TimeSpan.FromMinutes(5));
        Assert.True(exitCode == 0, $"{string.Join(' ', start.ArgumentList)} exited with {exitCode}:\n{output}\n{error}");
        return output;
    }
}
