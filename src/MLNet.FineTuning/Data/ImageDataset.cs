using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The rows of an image IDataView read once: labels (0-based classes or target values, <see cref="LabelKind"/>), and the decoded images when they fit the
/// cache budget (otherwise every epoch streams and decodes them again). Reading once also gives the row
/// count and the class counts before any training starts, so bad data fails fast.
/// </summary>
internal sealed class ImageDataset
{
    private ImageDataset(IDataView view, string imageColumn, string labelColumn, LabelKind kind, float[][] labels, DecodedImage[]? images, int skipped,
        int medianShortSide)
    {
        MedianShortSide = medianShortSide;
        View = view;
        ImageColumn = imageColumn;
        LabelColumn = labelColumn;
        Kind = kind;
        Labels = labels;
        Images = images;
        Skipped = skipped;
    }

    public IDataView View { get; }
    public string ImageColumn { get; }
    public string LabelColumn { get; }
    public LabelKind Kind { get; }
    /// <summary>Per row, as <see cref="LabelReader"/> reads it: [0-based class index], [target value] or the K label flags.</summary>
    public float[][] Labels { get; }
    /// <summary>The labels as class indices (single-label classification only).</summary>
    public int[] ClassIndices => LabelReader.ClassIndices(Labels, Kind);
    /// <summary>Decoded images in row order, or null when they did not fit the cache budget.</summary>
    public DecodedImage[]? Images { get; }
    /// <summary>Rows skipped because their image could not be read (only with skipUnreadable).</summary>
    public int Skipped { get; }
    public int Count => Labels.Length;
    /// <summary>The median of the images' shorter sides in pixels, as decoded: how much <c>ImageSize</c> enlarges or shrinks them.</summary>
    public int MedianShortSide { get; }

    public static ImageDataset Read(IDataView view, string imageColumn, string labelColumn, long cacheBudgetBytes,
        bool skipUnreadable, string role, CancellationToken cancellation, LabelKind kind = LabelKind.Class)
    {
        var labels = new List<float[]>();
        var images = new List<DecodedImage>();
        long bytes = 0;
        bool caching = true;
        int skipped = 0;
        var shortSides = new List<int>();
        foreach (var (row, label, image, error) in Rows(view, imageColumn, labelColumn, kind))
        {
            cancellation.ThrowIfCancellationRequested();
            if (error != null)
            {
                if (!skipUnreadable) throw error;
                skipped++;
                continue;
            }
            labels.Add(label);
            shortSides.Add(Math.Min(image!.Width, image.Height));
            if (caching)
            {
                images.Add(image!);
                bytes += image!.Bytes;
                if (bytes > cacheBudgetBytes) { caching = false; images.Clear(); }
            }
        }
        if (labels.Count == 0)
            throw new ArgumentException($"The {role} data has no rows{(skipped > 0 ? $" with a readable image ({skipped} skipped)" : "")}.");
        shortSides.Sort();
        return new ImageDataset(view, imageColumn, labelColumn, kind, labels.ToArray(), caching ? images.ToArray() : null, skipped, shortSides[shortSides.Count / 2]);
    }

    /// <summary>Streams (row, label as <see cref="LabelReader"/> reads it, decoded image or the error that names the row);
    /// the image column holds decoded images or encoded bytes (<see cref="ImageColumnKind"/>). With
    /// <paramref name="shuffle"/>, in the order a source that can shuffle draws with it (as ML.NET's row shuffling asks);
    /// other sources keep their order, and the row numbers count rows as read.</summary>
    public static IEnumerable<(long Row, float[] Label, DecodedImage? Image, Exception? Error)> Rows(IDataView view, string imageColumn, string labelColumn,
        LabelKind kind, Random? shuffle = null)
    {
        var imageCol = view.Schema[imageColumn];
        var labelCol = view.Schema[labelColumn];
        // The text columns too: when an image cannot be read, the path it came from (LoadImages' input) names the file.
        var textCols = view.Schema.Where(c => c.Type is TextDataViewType && c.Index != imageCol.Index && !c.IsHidden).ToList();
        using var cursor = view.GetRowCursor([imageCol, labelCol, .. textCols], shuffle);
        var readImage = ImageColumnReader.Create(cursor, imageCol);
        // Decoded images come from ML.NET's LoadImages, which decodes whatever the file declares: check the file it reads
        // first, as the runtime's decoder checks bytes (size declared in the header, a PNG, JPEG, BMP, GIF or WebP cut off), so a 20,000 ×
        // 20,000 PNG of 400 KB is refused before it takes gigabytes. Encoded columns are checked by their decoder.
        bool checkFiles = ImageColumns.KindOf(imageCol.Type) == ImageColumnKind.Decoded;
        var getLabel = LabelReader.Create(cursor, labelCol, kind);
        var getTexts = textCols.Select(c => (c.Name, Get: cursor.GetGetter<ReadOnlyMemory<char>>(c))).ToList();
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            var label = getLabel(row);
            Exception? error = null;
            DecodedImage? decoded = null;
            try
            {
                if (checkFiles && SourcePath(getTexts) is { } source) Runtime.Images.EncodedImage.Check(File.ReadAllBytes(source.Path));
                decoded = readImage();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                error = new InvalidDataException(
                    $"Row {row}{SourceFile(getTexts)}: image column '{imageColumn}' could not be read ({e.Message}). Fix or remove the file, or set SkipUnreadableImages = true to skip such rows.", e);
            }
            yield return (row, label, decoded, error);
        }
    }

    /// <summary>" (file '…', column '…')" for the first text value of the row that is an existing file, else "".</summary>
    private static string SourceFile(List<(string Name, ValueGetter<ReadOnlyMemory<char>> Get)> texts) =>
        SourcePath(texts) is { } source ? $" (file '{source.Path}', column '{source.Column}')" : "";

    /// <summary>The first text value of the row that is an existing file (LoadImages' input), and its column.</summary>
    private static (string Path, string Column)? SourcePath(List<(string Name, ValueGetter<ReadOnlyMemory<char>> Get)> texts)
    {
        foreach (var (name, get) in texts)
        {
            ReadOnlyMemory<char> value = default;
            get(ref value);
            string path = value.ToString();
            if (path.Length > 0 && path.Length < 4096 && File.Exists(path)) return (path, name);
        }
        return null;
    }
}
