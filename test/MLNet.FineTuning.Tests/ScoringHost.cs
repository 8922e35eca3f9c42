using System.Diagnostics;

namespace MLNet.FineTuning.Tests;

/// <summary>Runs test/MLNet.FineTuning.ScoringHost (no TorchSharp, no MLNet.FineTuning) in its own process.</summary>
internal static class ScoringHost
{
    /// <summary>The host's build output: the same configuration folder as this test assembly's, in the host's project.</summary>
    public static string Dll
    {
        get
        {
            string testProject = Path.Combine(TestData.RepoRoot, "test", "MLNet.FineTuning.Tests");
            string relativeOutput = Path.GetRelativePath(testProject, AppContext.BaseDirectory);
            string dll = Path.Combine(TestData.RepoRoot, "test", "MLNet.FineTuning.ScoringHost", relativeOutput, "MLNet.FineTuning.ScoringHost.dll");
            Assert.True(File.Exists(dll), $"{dll} not built (the test project builds it through a ProjectReference)");
            return dll;
        }
    }

    public static string Run(IEnumerable<string> arguments)
    {
        // The muxer that runs this test host, when it is one; otherwise the dotnet on PATH.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the scoring host did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"scoring host exit code {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

}
