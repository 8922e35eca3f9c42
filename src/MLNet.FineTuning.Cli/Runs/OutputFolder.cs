namespace MLNet.FineTuning.Cli.Runs;

/// <summary>The output folder of a run: refused when it already holds files, unless --force (start over) or
/// --resume (continue from its checkpoint).</summary>
internal sealed class OutputFolder
{
    public string Path { get; }
    /// <summary>Where the training loop writes its checkpoints (each epoch end, and on Ctrl+C).</summary>
    public string Checkpoint => System.IO.Path.Combine(Path, "checkpoint");
    /// <summary>The epoch reports so far, beside the checkpoint (<see cref="ProgressHistory"/>); removed with it when the run ends.</summary>
    public string ProgressFile => System.IO.Path.Combine(Path, "checkpoint-progress.json");

    OutputFolder(string path) => Path = path;

    /// <summary>Refuses an output that is a file, or a folder with files when neither --force nor --resume is given;
    /// changes nothing. A run checks this before it reads the data and prepares the folder after.</summary>
    public static void Check(string path, bool force, bool resume)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (File.Exists(full)) throw new UserError($"--output: '{full}' is a file; give a folder.");
        if (resume || force || !Directory.Exists(full) || !Directory.EnumerateFileSystemEntries(full).Any()) return;
        var names = Directory.EnumerateFileSystemEntries(full).Select(System.IO.Path.GetFileName).Take(5);
        throw new UserError($"--output: '{full}' already has files ({string.Join(", ", names)}); pass --force to replace them, or --resume to continue a stopped run.");
    }

    public static OutputFolder Prepare(string path, bool force, bool resume)
    {
        Check(path, force, resume);
        var folder = new OutputFolder(System.IO.Path.GetFullPath(path));
        if (resume)
        {
            // A kill in the middle of a checkpoint's swap leaves the previous checkpoint aside: put it back first.
            Training.Checkpoint.Recover(folder.Checkpoint);
            folder.CanResume = File.Exists(System.IO.Path.Combine(folder.Checkpoint, Training.Checkpoint.StateFile));
            if (!folder.CanResume && File.Exists(folder.FilePath("model.zip")))
                throw new UserError($"--resume: the run in '{folder.Path}' finished (model.zip is there); nothing to continue. Pass --force to train again.");
            // Otherwise the run stopped (Ctrl+C, a kill, a crash) before its first checkpoint: it starts from the beginning.
        }
        else if (force && Directory.Exists(folder.Checkpoint))
        {
            Directory.Delete(folder.Checkpoint, recursive: true);   // starting over: an old checkpoint must not be mistaken for this run's
        }
        Directory.CreateDirectory(folder.Path);
        if (!resume) File.Delete(folder.ProgressFile);
        return folder;
    }

    public string FilePath(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>With --resume: whether a checkpoint is there to continue from (false: the stopped run had not finished its
    /// first epoch, and this one starts from the beginning).</summary>
    public bool CanResume { get; private set; }
}
