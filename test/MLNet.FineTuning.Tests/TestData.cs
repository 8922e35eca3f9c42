using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests;

/// <summary>Small, real data for tests: the committed Fashion-MNIST and SpamAssassin subsets (samples/data).</summary>
internal static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string FashionRoot => Path.Combine(RepoRoot, "samples", "data", "fashion-mnist");

    /// <summary>The folder of the committed SpamAssassin <c>train.tsv</c> / <c>test.tsv</c> (Label, Text, Id).</summary>
    public static string SpamAssassinRoot => Path.Combine(RepoRoot, "samples", "data", "spam-assassin");

    /// <summary>The first <paramref name="perClass"/> images of each listed class from train or test.</summary>
    public static ImageFolder.Row[] Fashion(string split, int perClass, params string[] classes) =>
        ImageFolder.List(Path.Combine(FashionRoot, split))
            .Where(r => classes.Contains(r.Label))
            .GroupBy(r => r.Label).SelectMany(g => g.Take(perClass)).ToArray();

    /// <summary>The shape ML.NET builds from a schema, as <c>GetOutputSchema</c> takes it; ML.NET's <c>SchemaShape.Create</c>
    /// is internal, hence reflection.</summary>
    public static SchemaShape ShapeOf(DataViewSchema schema) =>
        (SchemaShape)typeof(SchemaShape).GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(DataViewSchema)])!
            .Invoke(null, [schema])!;

    /// <summary>Label → key and image loading, as a user's pipeline starts.</summary>
    public static IDataView Load(MLContext ml, IEnumerable<ImageFolder.Row> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
            .Fit(view).Transform(view);
    }

    /// <summary>Label → key and the files' encoded bytes (<c>LoadRawImageBytes</c>), for the library to decode.</summary>
    public static IDataView LoadBytes(MLContext ml, IEnumerable<ImageFolder.Row> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadRawImageBytes("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
            .Fit(view).Transform(view);
    }

    private static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("MLNet.FineTuning.sln not found above " + AppContext.BaseDirectory);
    }
}
