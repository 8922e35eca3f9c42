using Microsoft.ML;

namespace MLNet.FineTuning.Data;

/// <summary>
/// Reads an image-folder tree (<c>root/&lt;label&gt;/…/&lt;image file&gt;</c>, the layout of torchvision's
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

    /// <summary>Lists the images under <paramref name="root"/>, sorted by class then path. As in torchvision's
    /// <c>ImageFolder</c>, a class is a sub-folder of <paramref name="root"/> and holds the images at any depth below it.
    /// Hidden files and folders (names that begin with '.') are left out: macOS writes "._name.jpg" files that are not
    /// images beside every image it copies to some disks, and Jupyter a ".ipynb_checkpoints" folder.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="InvalidDataException">The folder has no class sub-folder with images.</exception>
    public static IReadOnlyList<Row> List(string root)
    {
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"Image folder '{root}' does not exist. Expected {root}/<class name>/<image files>.");
        var rows = new List<Row>();
        foreach (var dir in Directory.GetDirectories(root).Where(d => !IsHidden(d)).Order(StringComparer.Ordinal))
            rows.AddRange(ImagesBelow(dir).Select(file => new Row { Label = Path.GetFileName(dir), ImagePath = file }));
        if (rows.Count == 0)
            throw new InvalidDataException($"Image folder '{root}' has no images in class sub-folders. Expected {root}/<class name>/<image files> ({string.Join(", ", Extensions)}).");
        return rows;
    }

    /// <summary>The sub-folders of <paramref name="root"/> (not hidden) with no image below them: not classes. Each folder's
    /// listing stops at its first image.</summary>
    internal static IReadOnlyList<string> FoldersWithoutImages(string root) =>
        [.. Directory.GetDirectories(root).Where(d => !IsHidden(d) && !Unsorted(d).Any()).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)];

    /// <summary>The image files at any depth below <paramref name="folder"/>, outside hidden folders, as absolute paths
    /// sorted by their path below it.</summary>
    internal static IEnumerable<string> ImagesBelow(string folder) => Unsorted(folder).Order(StringComparer.Ordinal);

    static IEnumerable<string> Unsorted(string folder)
    {
        string top = Path.GetFullPath(folder);
        return Directory.EnumerateFiles(top, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f))
                        && !Path.GetRelativePath(top, f).Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.')));
    }

    static bool IsHidden(string path) => Path.GetFileName(path).StartsWith('.');

    /// <summary>Loads the images under <paramref name="root"/> as an <see cref="IDataView"/> of <see cref="Row"/>.</summary>
    public static IDataView Load(MLContext mlContext, string root) => mlContext.Data.LoadFromEnumerable(List(root));
}
