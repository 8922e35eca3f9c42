using Microsoft.ML;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// A temporary folder of the run's own for <c>MLContext.TempFilePath</c>, deleted at the end. ML.NET writes every ONNX
/// model that <c>ApplyOnnxModel</c> reads from a stream to a file there and, on that path (<c>OnnxModel.CreateFromStream</c>
/// passes <c>ownModelFile: false</c>), never deletes it: each Fit leaves its scoring model behind (90 MB for the text
/// classifier), dozens per run on a shared disk. This covers estimators made with the context itself
/// (<c>new LoraTextClassifier(ml, options)</c>); the catalog entry <c>Trainers.FineTuneImageClassifier</c> builds its scoring
/// chain in a context of its own (the library's <c>HostEnvironment.FromCatalog</c>), whose files still go to the system's
/// temporary folder (64 MB per Fit).
/// </summary>
internal sealed class TempFiles : IDisposable
{
    private readonly string folder;

    private TempFiles(string folder) => this.folder = folder;

    /// <summary>The folder, for the run's own temporary files too (deleted with it).</summary>
    public string Folder => folder;

    /// <summary>Points <paramref name="ml"/>'s temporary files at a new folder.</summary>
    public static TempFiles For(MLContext ml)
    {
        var files = new TempFiles(Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "mlnet-finetuning-bench-" + Guid.NewGuid().ToString("N"))).FullName);
        ml.TempFilePath = files.folder;
        return files;
    }

    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Console.Error.WriteLine($"could not delete '{folder}': {e.Message}"); }
    }
}
