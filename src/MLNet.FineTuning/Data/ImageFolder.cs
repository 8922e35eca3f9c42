using Microsoft.ML;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Reads an image-folder tree (<c>root/&lt;label&gt;/&lt;image file&gt;</c>, the layout of torchvision's
/// <c>ImageFolder</c> and of Model Builder's image scenario) into an <see cref="IDataView"/> with a
/// <c>Label</c> text column and an <c>ImagePath</c> column of absolute paths.
/// </summary>
public static class ImageFolder
{
    /// <summary>One image: its class (the sub-folder name) and its absolute path.</summary>
    public sealed class Row
    {
        /// <summary>Class name: the name of the sub-folder that holds the image.</summary>
        public string Label { get; set; } = "";
        /// <summary>Absolute path of the image file.</summary>
        public string ImagePath { get; set; } = "";
    }

    /// <summary>The file extensions read as images (also what mlnet-finetune predict lists in a folder).</summary>
    internal static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase)
        { ".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp" };

    /// <summary>Lists the images under <paramref name="root"/>, sorted by class then file name.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no class sub-folder with images.</exception>
    public static IReadOnlyList<Row> List(string root)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist. Expected {root}/<class name>/<image files>.");
        var rows = new List<Row>();
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
            foreach (var file in Directory.GetFiles(dir).Order(StringComparer.Ordinal))
                if (Extensions.Contains(Path.GetExtension(file)))
                    rows.Add(new Row { Label = Path.GetFileName(dir), ImagePath = Path.GetFullPath(file) });
        if (rows.Count == 0)
            throw new InvalidDataException($"Image folder '{root}' has no images in class sub-folders. Expected {root}/<class name>/<image files> ({string.Join(", ", Extensions)}).");
        return rows;
    }

    /// <summary>Loads the images under <paramref name="root"/> as an <see cref="IDataView"/> of <see cref="Row"/>.</summary>
    public static IDataView Load(MLContext mlContext, string root) => mlContext.Data.LoadFromEnumerable(List(root));
}
