namespace MLNet.FineTuning.Tests.Cli;

/// <summary>Ctrl+C (SIGINT) stops a run with a checkpoint in the output folder, and the same command with --resume
/// finishes it.</summary>
public sealed class StopAndResumeTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("mlnet-finetune-resume-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void CtrlC_LeavesACheckpoint_ThatResumeFinishes()
    {
        string output = Path.Combine(root, "out");
        string[] command = ["image", "--data", Tool.ImageFolder(root, "train", 8), "--output", output,
                            "--image-size", "32", "--epochs", "3", "--batch-size", "4", "--no-baseline"];
        var stopped = Tool.RunAndInterrupt("= epoch 1/3", command);
        Assert.True(stopped.ExitCode == 1, stopped.ToString());
        Assert.Contains("--resume", stopped.Error);
        Assert.True(File.Exists(Path.Combine(output, "checkpoint", "checkpoint.json")), stopped.ToString());
        Assert.False(File.Exists(Path.Combine(output, "model.zip")), "a stopped run writes no model");

        var again = Tool.Run(command);   // without --resume the folder is refused: it holds the checkpoint
        Assert.Equal(1, again.ExitCode);

        var resumed = Tool.Run([.. command, "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.ToString());
        Assert.DoesNotContain("= epoch 1/3", resumed.Output);   // it went on from the checkpoint
        Assert.Contains("= epoch 3/3", resumed.Output);
        Assert.True(File.Exists(Path.Combine(output, "model.onnx")));
        // The record and the report cover the whole run: epoch 1 came from the stopped run.
        using var record = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "finetune.json")));
        Assert.Equal([1, 2, 3], record.RootElement.GetProperty("epochs").EnumerateArray().Select(e => e.GetProperty("epoch").GetInt32()));
        Assert.Contains("the curves cover the whole run", File.ReadAllText(Path.Combine(output, "report.md")));
        Assert.False(File.Exists(Path.Combine(output, "checkpoint-progress.json")), "the progress kept for --resume is removed with the checkpoint");
    }

    [Fact]
    public void KillMinus9_AtSeveralPoints_LeavesACheckpoint_ThatResumeFinishes()
    {
        string output = Path.Combine(root, "killed");
        string[] command = ["image", "--data", Tool.ImageFolder(Path.Combine(root, "killed-data"), "train", 8), "--output", output,
                            "--image-size", "32", "--epochs", "4", "--batch-size", "4", "--no-baseline"];
        // SIGKILL runs no handler: whatever the tool was doing (a training step, the epoch's checkpoint swap, the
        // report) stops mid-way. Each kill comes a little later after an epoch ends; each resume starts from what the
        // kill left, and the last run goes to the end.
        var killedAt = new List<string>();
        foreach (var (after, ms) in new[] { ("= epoch 1/4", 0), ("= epoch 2/4", 40), ("= epoch 3/4", 150) })
        {
            var killed = Tool.RunAndSignal("-KILL", after, TimeSpan.FromMilliseconds(ms), killedAt.Count == 0 ? command : [.. command, "--resume"]);
            Assert.True(killed.ExitCode != 0, killed.ToString());
            killedAt.Add($"{after} + {ms} ms");
            // No file under a final name is half-written: the checkpoint that is there loads (the next resume reads it).
            Assert.False(File.Exists(Path.Combine(output, "model.zip")), $"killed at {killedAt[^1]}: a killed run writes no model");
        }

        var resumed = Tool.Run([.. command, "--resume"]);

        Assert.True(resumed.ExitCode == 0, $"after kills at {string.Join(", ", killedAt)}: {resumed}");
        Assert.Contains("= epoch 4/4", resumed.Output);
        Assert.DoesNotContain("= epoch 1/4", resumed.Output);
        foreach (var file in new[] { "model.zip", "model.onnx", "metrics.json", "finetune.json" })
            Assert.True(new FileInfo(Path.Combine(output, file)) is { Exists: true, Length: > 0 }, file);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(output, "model.onnx"));
        Assert.Single(session.InputMetadata);
    }
}
