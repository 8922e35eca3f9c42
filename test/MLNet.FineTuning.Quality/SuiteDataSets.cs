namespace MLNet.FineTuning.Quality;

/// <summary>Image or text classification.</summary>
internal enum DataKind { Image, Text }

/// <summary>One data set of the suite: where its train/test split lies (relative to the repository root) and what
/// makes it different from the others. Images: <c>folder/{train,test}/&lt;class&gt;/&lt;image&gt;</c>; text:
/// <c>folder/{train,test}.tsv</c> with a header and the columns Label, Text (more columns are ignored).</summary>
/// <param name="CpuImageSize">The input side a CPU user would pick for these images (the library's default, 224, is the GPU's).</param>
/// <param name="TrainPool">Images: only the first this many training files by file name are the data set (0: all). The
/// committed Fashion-MNIST folder grows when the main job needs more rows; the suite keeps drawing from the first 2,000
/// (the folder when its tables were first run), so that its sample, and so its results, stay the same.</param>
internal sealed record SuiteDataSet(string Name, DataKind Kind, string Folder, string Description, int CpuImageSize = 0, int TrainPool = 0)
{
    /// <summary>The suite. Provenance, licences and the derivation of each: samples/data/README.md; all but the two
    /// committed samples are written by <c>eng/prepare-data.sh suite-images suite-text</c>.</summary>
    public static readonly IReadOnlyList<SuiteDataSet> All =
    [
        new("fashion-mnist", DataKind.Image, "samples/data/fashion-mnist", "clothing photos, grayscale 28 px, 10 classes", 32, TrainPool: 2000),
        new("digits", DataKind.Image, "data/suite/images/digits", "handwritten digit scans, 8 px, 10 classes", 32),
        new("glyphs", DataKind.Image, "data/suite/images/glyphs", "letters and digits of unseen fonts, 32 px, 62 classes", 32),
        new("emoji", DataKind.Image, "data/suite/images/emoji", "emoji drawings by category, colour 64 px, 9 classes", 64),
        new("stamps", DataKind.Image, "data/suite/images/stamps", "Tux Paint stamps (photos, clip art) by topic, colour ≤128 px", 64),
        new("food", DataKind.Image, "data/suite/images/food", "food photos (produce, dishes) by food group, colour 307×173", 64),
        new("spam-assassin", DataKind.Text, "samples/data/spam-assassin", "e-mails: spam, easy ham, hard ham; long"),
        new("debian-packages", DataKind.Text, "data/suite/text/debian-packages", "one-line package descriptions → section, ~50 classes"),
        new("fortunes-topics", DataKind.Text, "data/suite/text/fortunes-topics", "fortune-cookie quotes → topic file"),
        new("fortunes-language", DataKind.Text, "data/suite/text/fortunes-language", "fortune-cookie quotes → language"),
        new("first-names", DataKind.Text, "data/suite/text/first-names", "English first names → female or male; one word"),
    ];

    public static SuiteDataSet Get(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? throw new ArgumentException($"Unknown data set '{name}'. Known: {string.Join(", ", All.Select(d => d.Name))}.");
}
