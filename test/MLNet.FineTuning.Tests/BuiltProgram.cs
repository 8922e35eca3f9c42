using System.Diagnostics;

namespace MLNet.FineTuning.Tests;

/// <summary>A program of this repository that the test project builds (a ProjectReference without its assembly) and
/// the tests run in a process of its own, as a user or a service would.</summary>
internal static class BuiltProgram
{
    /// <summary>The program's dll in its own build output: the same configuration folder as this test assembly's.</summary>
    public static string Dll(string projectFolder, string dllName)
    {
        string testProject = Path.Combine(TestData.RepoRoot, "test", "MLNet.FineTuning.Tests");
        string relativeOutput = Path.GetRelativePath(testProject, AppContext.BaseDirectory);
        string dll = Path.Combine(TestData.RepoRoot, projectFolder, relativeOutput, dllName);
        Assert.True(File.Exists(dll), $"{dll} not built (the test project builds it through a ProjectReference)");
        return dll;
    }

    /// <summary>Runs a started program to its end (killed after <paramref name="limit"/>, which fails the test) and returns
    /// its exit code and output.</summary>
    public static (int ExitCode, string Output, string Error) Run(ProcessStartInfo start, TimeSpan limit)
    {
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish in {limit.TotalMinutes:F0} minutes");
        }
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>What a program run with <c>TMPDIR</c> at <paramref name="temporaryFolder"/> left there, but for ONNX Runtime's
    /// own ".ses" (51 bytes, a time and an id: its Linux build's telemetry SDK keeps that one file in the temporary folder).</summary>
    public static string[] LeftIn(string temporaryFolder) =>
        [.. Directory.GetFileSystemEntries(temporaryFolder).Select(f => Path.GetFileName(f)).Where(n => n != ".ses")];

    /// <summary>Starts <paramref name="dll"/> with the muxer that runs this test host (otherwise the dotnet on PATH),
    /// standard output and error redirected.</summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> arguments)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host
            : Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        return start;
    }
}
