using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Quality;

/// <summary>One text row of a suite TSV file (header line; Label, Text, then columns the suite ignores).</summary>
internal sealed class TextRow
{
    [LoadColumn(0)] public string Label { get; set; } = "";
    [LoadColumn(1)] public string Text { get; set; } = "";
}

/// <summary>
/// Reads a data set's split and takes the profile's rows from it: a sample drawn once with a fixed seed (not the
/// run's seed), so every recipe and every seed trains and is scored on exactly the same rows, and the spread over
/// seeds is the training's own.
/// </summary>
internal static class SuiteData
{
    private const int SampleSeed = 20261204;

    public static string Locate(string repoRoot, SuiteDataSet d)
    {
        string folder = Path.Combine(repoRoot, d.Folder);
        string probe = d.Kind == DataKind.Image ? Path.Combine(folder, "train") : Path.Combine(folder, "train.tsv");
        if (!Path.Exists(probe))
            throw new FileNotFoundException($"Data set '{d.Name}' is missing: expected {probe}. Derive the suite with " +
                                            "'eng/prepare-data.sh suite-images suite-text' (root, apt and npm).", probe);
        return folder;
    }

    /// <summary>The images of <paramref name="split"/>; with a <paramref name="pool"/>, only its first that many files by
    /// file name (in class order, as listed), before the sample is drawn.</summary>
    public static IReadOnlyList<ImageFolder.Row> Images(string folder, string split, int maxRows, int pool = 0)
    {
        var rows = ImageFolder.List(Path.Combine(folder, split));
        if (pool > 0 && rows.Count > pool)
        {
            var first = rows.Select(r => Path.GetFileName(r.ImagePath)).Order(StringComparer.Ordinal).Take(pool).ToHashSet(StringComparer.Ordinal);
            rows = rows.Where(r => first.Contains(Path.GetFileName(r.ImagePath))).ToList();
        }
        return Sample(rows, maxRows);
    }

    public static IReadOnlyList<TextRow> Texts(MLContext ml, string folder, string split, int maxRows)
    {
        var view = ml.Data.LoadFromTextFile<TextRow>(Path.Combine(folder, split + ".tsv"), hasHeader: true, separatorChar: '\t', allowQuoting: false);
        return Sample(ml.Data.CreateEnumerable<TextRow>(view, reuseRowObject: false).ToList(), maxRows);
    }

    /// <summary>All rows if they fit, else a seeded random sample (the files are sorted by class: a prefix would drop classes).</summary>
    private static IReadOnlyList<T> Sample<T>(IReadOnlyList<T> rows, int maxRows)
    {
        if (rows.Count <= maxRows) return rows;
        var copy = rows.ToArray();
        new Random(SampleSeed).Shuffle(copy);
        return copy[..maxRows];
    }

    /// <summary>Drops test rows whose class never occurs in training (a key the model cannot predict) and says so.</summary>
    public static IReadOnlyList<T> KnownClassesOnly<T>(IReadOnlyList<T> test, IReadOnlyList<T> train, Func<T, string> label, string dataSet)
    {
        var known = train.Select(label).ToHashSet();
        var kept = test.Where(r => known.Contains(label(r))).ToList();
        if (kept.Count < test.Count) Console.WriteLine($"  {dataSet}: {test.Count - kept.Count} test rows of classes absent from the training sample left out");
        return kept;
    }
}
