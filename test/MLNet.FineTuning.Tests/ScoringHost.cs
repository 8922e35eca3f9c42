namespace MLNet.FineTuning.Tests;

/// <summary>Runs test/MLNet.FineTuning.ScoringHost (no TorchSharp, no MLNet.FineTuning) in its own process.</summary>
internal static class ScoringHost
{
    /// <summary>The host's build output: the same configuration folder as this test assembly's, in the host's project.</summary>
    public static string Dll => BuiltProgram.Dll(Path.Combine("test", "MLNet.FineTuning.ScoringHost"), "MLNet.FineTuning.ScoringHost.dll");

    public static string Run(IEnumerable<string> arguments)
    {
        var (exitCode, output, error) = BuiltProgram.Run(BuiltProgram.StartInfo(Dll, arguments), TimeSpan.FromMinutes(2));
        Assert.True(exitCode == 0, $"scoring host exit code {exitCode}: {error}");
        return output;
    }

}
