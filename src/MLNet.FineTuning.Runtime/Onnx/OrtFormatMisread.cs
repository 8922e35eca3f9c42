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
    /// misread anywhere in the exception's chain; any other failure, and the last misread, propagate unchanged.</summary>
    public static T Retry<T>(Func<T> step)
    {
        ArgumentNullException.ThrowIfNull(step);
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return step();
            }
            catch (Exception e) when (attempt < Attempts && IsMisread(e))
            {
                // The next attempt writes the bytes under a new random name.
            }
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
