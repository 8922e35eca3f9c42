using System.Diagnostics;

namespace MLNet.FineTuning.Tests;

/// <summary>Runs test/MLNet.FineTuning.ScoringHost (no TorchSharp, no MLNet.FineTuning) in its own process.</summary>
internal static class ScoringHost
{
    /// <summary>The host's build output: the same configuration folder as this test assembly's, in the host's project.</summary>
    public static string Dll => BuiltProgram.Dll(Path.Combine("test", "MLNet.FineTuning.ScoringHost"), "MLNet.FineTuning.ScoringHost.dll");

    public static string Run(IEnumerable<string> arguments)
    {
        using var process = Process.Start(BuiltProgram.StartInfo(Dll, arguments))!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "the scoring host did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"scoring host exit code {process.ExitCode}: {stderr.Result}");
        return stdout;
    }

}
