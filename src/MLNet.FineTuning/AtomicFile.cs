using System.Diagnostics;

namespace MLNet.FineTuning;

/// <summary>Writes a whole file or nothing: a reader (or a crash) never sees half of it.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="bytes"/> into a temporary file in the target's folder, flushes it to disk,
    /// then renames it over <paramref name="path"/>. The rename stays in one folder, hence one file system,
    /// where it is atomic; a temporary file elsewhere (e.g. /tmp) could need a copy across devices.
    /// </summary>
    /// <param name="path">The target file; replaced if it exists.</param>
    /// <param name="bytes">The whole content.</param>
    /// <param name="what">What the file is, for messages ("ONNX model").</param>
    /// <exception cref="IOException">Anything went wrong; the message names the path and no temporary file is left.</exception>
    public static void Write(string path, ReadOnlySpan<byte> bytes, string what)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new IOException($"Cannot write the {what} to '{path}': {e.Message}", e);
        }
        if (Directory.Exists(full))
            throw new IOException($"Cannot write the {what} to '{full}': that is a folder.");
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write the {what} to '{full}': folder '{folder}' does not exist.");

        string temp = TemporaryPath(full);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                // To the disk before the rename: otherwise a power cut can leave the new name on an empty file.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new IOException($"Could not write the {what} to '{full}': {e.Message}", e);
        }
    }

    /// <summary>
    /// The same guarantee for a file that another writer produces (TorchSharp's <c>save_safetensors</c>):
    /// <paramref name="write"/> writes the temporary path it is given, which is flushed to disk and renamed over
    /// <paramref name="path"/>.
    /// </summary>
    public static void Write(string path, string what, Action<string> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder))
            throw new DirectoryNotFoundException($"Cannot write the {what} to '{full}': folder '{folder}' does not exist.");
        string temp = TemporaryPath(full);
        try
        {
            write(temp);
            FlushToDisk(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>
    /// A new temporary name beside <paramref name="full"/>: <c>.&lt;name&gt;.&lt;pid&gt;-&lt;guid&gt;.tmp</c>. A process killed
    /// while writing leaves its temporary file behind (possibly hundreds of megabytes); the next write of the same file
    /// deletes those whose process is gone, and never one that a live process may still be writing.
    /// </summary>
    static string TemporaryPath(string full)
    {
        string folder = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        foreach (var stale in Directory.EnumerateFiles(folder, $".{name}.*.tmp"))
        {
            string middle = Path.GetFileName(stale)[(name.Length + 2)..^4];
            int dash = middle.IndexOf('-');
            if (dash > 0 && int.TryParse(middle[..dash], out int pid) && ProcessIsGone(pid)) TryDelete(stale);
        }
        return Path.Combine(folder, $".{name}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp");
    }

    /// <summary>Whether no process with this id runs now (the owner of a temporary file or folder was killed).</summary>
    public static bool ProcessIsGone(int pid)
    {
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Forces a written file's data to the disk (fsync), so that a rename after it never names an empty file.</summary>
    public static void FlushToDisk(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original error is the one worth reporting.
        }
    }
}
