namespace MLNet.FineTuning.Runtime.Onnx;

/// <summary>
/// Repeats an ML.NET step that opened an ONNX model and failed only because of the temporary file's name.
/// ML.NET writes an ONNX model it holds as bytes (<c>ApplyOnnxModel</c> from a stream, and every <c>OnnxTransformer</c>
/// that <c>mlContext.Model.Load</c> restores from model.zip) to a file named by <see cref="Path.GetRandomFileName"/>, whose
/// three-letter extension is random: one name in 32,768 ends in ".ort", and ONNX Runtime then reads the file as its own
/// ORT format and stops with "ORT model verification failed" (dotnet/machinelearning issue 7339; docs/reliability.md,
/// "A model that fails to open one time in 32,768"). The same bytes open under the next random name, so such a failure, and
/// no other, is retried: nothing about the model or its results changes.
/// </summary>
public static class OrtFormatMisread
{
    /// <summary>How many times a step is tried: three misreads in a row are one chance in 32,768³.</summary>
    public const int Attempts = 3;

    /// <summary>ONNX Runtime's words when it reads a file as ORT format and the bytes are not (inference_session.cc).</summary>
    internal const string OrtFormatFailure = "ORT model verification failed";

    /// <summary>Runs <paramref name="step"/>, again (up to <see cref="Attempts"/> in all) while it fails with ONNX Runtime's ORT-format
    /// misread anywhere in the exception's chain; any other failure, and the last misread, propagate unchanged. ML.NET
    /// deletes its temporary copy only when the model it opened is disposed, so a copy that failed to open stays behind
    /// (a model's size, in <c>MLContext.TempFilePath</c>): after each misread, the random-named ".ort" files that
    /// <paramref name="temporaryFolder"/> gained during the attempt are deleted.</summary>
    public static T Retry<T>(Func<T> step, string? temporaryFolder = null)
    {
        ArgumentNullException.ThrowIfNull(step);
        for (int attempt = 1; ; attempt++)
        {
            var started = DateTime.UtcNow;
            try
            {
                return step();
            }
            catch (Exception e) when (IsMisread(e))
            {
                if (temporaryFolder != null) DeleteMisreadCopies(temporaryFolder, started);
                if (attempt == Attempts) throw;
                // The next attempt writes the bytes under a new random name.
            }
        }
    }

    /// <summary>Deletes the files of <paramref name="folder"/> named as <see cref="Path.GetRandomFileName"/> names them (8 and 3
    /// characters of a–z and 0–5) with the extension ".ort", written since <paramref name="since"/> (less 2 s for a file
    /// system's coarse times): ML.NET's copies that ONNX Runtime misread. Such a name is one that fails to open, so no
    /// working copy of another model can be among them; a file that cannot be deleted is left.</summary>
    internal static void DeleteMisreadCopies(string folder, DateTime since)
    {
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.EnumerateFiles(folder, "*.ort"))
        {
            string name = Path.GetFileName(file);
            if (name.Length != 12 || name[8] != '.' || !name[..8].All(c => c is >= 'a' and <= 'z' or >= '0' and <= '5')) continue;
            try
            {
                if (File.GetLastWriteTimeUtc(file) >= since.AddSeconds(-2)) File.Delete(file);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Whether <paramref name="e"/> or an exception inside it is ONNX Runtime's ORT-format misread.</summary>
    internal static bool IsMisread(Exception e)
    {
        for (Exception? x = e; x != null; x = x.InnerException)
            if (x.Message.Contains(OrtFormatFailure, StringComparison.Ordinal)) return true;
        return false;
    }
}
