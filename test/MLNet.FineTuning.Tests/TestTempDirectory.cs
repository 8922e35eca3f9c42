using System.Runtime.CompilerServices;

namespace MLNet.FineTuning.Tests;

/// <summary>
/// Gives the test process (and the ScoringHost processes it starts) a temporary folder of its own, deleted at exit.
/// </summary>
/// <remarks>
/// ML.NET's OnnxTransformer writes the ONNX bytes of every model it loads from a zip to a file in the temporary
/// folder and deletes it only when the transformer is disposed or finalized, and a fitted model's graph file
/// (Onnx/OnnxScoring) goes the same way; finalizers do not run at process exit, so a test that fits or loads a model
/// without disposing it can leave 45-90 MB behind. TMPDIR (which Path.GetTempPath reads) points at a per-process
/// folder that is removed at exit; the test runner usually ends its host without a normal exit, so each run also
/// removes the folders of earlier runs whose process is gone: at most one run's files stay behind.
/// </remarks>
internal static class TestTempDirectory
{
    private const string Prefix = "mlnet-finetuning-tests-";

    [ModuleInitializer]
    internal static void Initialize()
    {
        string root = Path.GetTempPath();
        foreach (var stale in Directory.EnumerateDirectories(root, Prefix + "*"))
            if (int.TryParse(Path.GetFileName(stale)[Prefix.Length..], out int pid) && !IsRunning(pid))
                TryDelete(stale);
        string mine = Path.Combine(root, Prefix + Environment.ProcessId);
        Directory.CreateDirectory(mine);
        Environment.SetEnvironmentVariable("TMPDIR", mine);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(mine);
    }

    private static bool IsRunning(int pid)
    {
        try { return !System.Diagnostics.Process.GetProcessById(pid).HasExited; }
        catch (ArgumentException) { return false; }
    }

    private static void TryDelete(string path)
    {
        try { Directory.Delete(path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
