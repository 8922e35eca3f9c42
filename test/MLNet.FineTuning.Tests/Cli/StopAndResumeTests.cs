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
    }
}
