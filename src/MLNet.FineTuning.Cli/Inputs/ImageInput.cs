using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// The images of one data argument: a folder with one sub-folder per class (<see cref="ImageFolder"/>), or a
/// CSV/TSV table with a path column and a label column (relative paths are resolved against the table's folder).
/// Either way the rows are <see cref="ImageFolder.Row"/>: Label and ImagePath.
/// </summary>
internal static class ImageInput
{
    public static IReadOnlyList<ImageFolder.Row> Read(string data, string option, string pathColumn, string labelColumn,
                                                    bool classFolders = true, bool allowEmptyLabel = false, string? tableOnlyWhy = null)
    {
        if (Directory.Exists(data))
        {
            if (!classFolders)
                throw new UserError($"{option}: '{Path.GetFullPath(data)}' is a folder; {tableOnlyWhy} reads a CSV/TSV table with '{pathColumn}' and '{labelColumn}' columns.");
            IReadOnlyList<ImageFolder.Row> images;
            try { images = ImageFolder.List(data); }
            catch (InvalidDataException e) { throw new UserError($"{option}: {e.Message}"); }
            // A class folder left empty (its images not copied yet, or of a kind not read) would vanish from the classes.
            if (ImageFolder.FoldersWithoutImages(data) is { Count: > 0 } empty)
                Console.WriteLine($"note: {option}: {string.Join(", ", empty.Select(f => $"'{f}'"))} in '{Path.GetFullPath(data)}' " +
                                  $"{(empty.Count == 1 ? "holds no images" : "hold no images")} ({string.Join(", ", ImageFolder.Extensions)}): " +
                                  $"{(empty.Count == 1 ? "not a class" : "not classes")}.");
            return images;
        }
        if (!File.Exists(data))
            throw new UserError($"{option}: '{Path.GetFullPath(data)}' does not exist. Expected a folder with one sub-folder of images per class, or a CSV/TSV file with '{pathColumn}' and '{labelColumn}' columns.");
        if (!DataTable.IsTable(data))
            throw new UserError($"{option}: '{Path.GetFullPath(data)}' is neither a folder nor a .csv/.tsv table.");

        var table = DataTable.Read(data, option);
        string folder = Path.GetDirectoryName(table.Path)!;
        var paths = table.Column(table.IndexOf(pathColumn, "--path-column")).Select(p => p.Trim()).ToList();
        var labels = table.Column(table.IndexOf(labelColumn, "--label-column")).Select(l => l.Trim()).ToList();
        var rows = new List<ImageFolder.Row>(paths.Count);
        for (int i = 0; i < paths.Count; i++)
        {
            if (paths[i].Length == 0) throw new UserError($"{option}: {table.Where(i)}: the '{pathColumn}' column is empty.");
            if (labels[i].Length == 0 && !allowEmptyLabel) throw new UserError($"{option}: {table.Where(i)}: the '{labelColumn}' column is empty.");
            string path = Resolve(folder, paths[i]);
            if (!File.Exists(path)) throw new UserError($"{option}: {table.Where(i)}: image '{path}' does not exist.");
            rows.Add(new ImageFolder.Row { Label = labels[i], ImagePath = path });
        }
        if (rows.Count == 0) throw new UserError($"{option}: '{table.Path}' has a header but no rows.");
        return rows;
    }

    // A table written on Windows names its images with '\' (images\cat.jpg): where the path as written is no file here,
    // the same path with '/' is, and it names the same file.
    static string Resolve(string folder, string given)
    {
        string path = Path.GetFullPath(Path.Combine(folder, given));
        if (File.Exists(path) || Path.DirectorySeparatorChar == '\\' || !given.Contains('\\')) return path;
        string slashed = Path.GetFullPath(Path.Combine(folder, given.Replace('\\', '/')));
        return File.Exists(slashed) ? slashed : path;
    }
}
