using Microsoft.ML;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// A fitted scoring chain (<see cref="OnnxScoringChain"/>) and the file its ONNX Runtime session was opened from, which the
/// chain owns: disposing it ends the session and deletes the file.
/// </summary>
/// <remarks>
/// ML.NET's <c>ApplyOnnxModel</c> from a stream writes the bytes to a random-named temporary file that it treats as the
/// caller's own and never deletes, not even when the transformer is disposed (measured with ML.NET 5.0.1: one 60-90 MB
/// file in the temporary folder for every <c>Fit</c>, left there by the tool's every run). So the chain opens a file this
/// class writes, named <c>*.onnx</c> (ONNX Runtime reads a name ending in <c>.ort</c> as its own format, the one-in-32,768
/// failure of ML.NET's random names, docs/reliability.md), and deletes it when disposed, after the chain. The file must
/// exist while the chain lives: ML.NET's <c>Model.Save</c> reads the graph from it.
/// <para>A model never disposed deletes it in its finalizer. On Linux and macOS that always works (a file still open is
/// unlinked); on Windows the chain's own handle on the file may not be finalized yet, which leaves the file there (not
/// checked on Windows): dispose the model.</para>
/// </remarks>
internal sealed class OnnxScoring : IDisposable
{
    private readonly string path;

    private OnnxScoring(ITransformer chain, string path)
    {
        Chain = chain;
        this.path = path;
    }

    /// <summary>The fitted chain of public ML.NET components that scores rows and is what model.zip holds.</summary>
    public ITransformer Chain { get; }

    /// <summary>Writes <paramref name="onnx"/> to a new file in <paramref name="folder"/> and fits <paramref name="chain"/>
    /// (given that file's path) over it; a failure leaves no file behind.</summary>
    public static OnnxScoring Fit(string folder, byte[] onnx, Func<string, ITransformer> chain)
    {
        Directory.CreateDirectory(folder);   // a TempFilePath not made yet must not undo a finished training
        string path = Path.Combine(folder, $"mlnet-finetuning-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, onnx);
            return new OnnxScoring(chain(path), path);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public void Dispose()
    {
        (Chain as IDisposable)?.Dispose();
        DeleteFile();
        GC.SuppressFinalize(this);
    }

    ~OnnxScoring() => DeleteFile();

    /// <summary>Deleting a file that is gone already does nothing, so Dispose and the finalizer need no flag between them.</summary>
    private void DeleteFile()
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
