using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// The images of one data argument: a folder with one sub-folder per class (<see cref="ImageFolder"/>), or a
/// CSV/TSV table with a path column and a label column (relative paths are resolved against the table's folder).
/// Either way the rows are <see cref="ImageFolder.Row"/>: Label and ImagePath.
/// </summary>
internal static class ImageInput
{
    public static IReadOnlyList<ImageFolder.Row> Read(MLContext ml, string data, string option, string pathColumn, string labelColumn,
                                                    bool classFolders = true, bool allowEmptyLabel = false, string? tableOnlyWhy = null)
    {
        if (Directory.Exists(data))
        {
            if (!classFolders)
                throw new UserError($"{option}: '{Path.GetFullPath(data)}' is a folder; {tableOnlyWhy} reads a CSV/TSV table with '{pathColumn}' and '{labelColumn}' columns.");
            try { return ImageFolder.List(data); }
            catch (InvalidDataException e) { throw new UserError($"{option}: {e.Message}"); }
        }
        if (!File.Exists(data))
            throw new UserError($"{option}: '{Path.GetFullPath(data)}' does not exist. Expected a folder with one sub-folder of images per class, or a CSV/TSV file with '{pathColumn}' and '{labelColumn}' columns.");
        if (!DataTable.IsTable(data))
            throw new UserError($"{option}: '{Path.GetFullPath(data)}' is neither a folder nor a .csv/.tsv table.");

        var table = DataTable.Open(data, option);
        var view = table.Load(ml, [("Path", table.IndexOf(pathColumn, "--path-column")), ("Label", table.IndexOf(labelColumn, "--label-column"))]);
        string folder = Path.GetDirectoryName(table.Path)!;
        var paths = view.GetColumn<ReadOnlyMemory<char>>("Path").Select(p => p.ToString().Trim()).ToList();
        var labels = view.GetColumn<ReadOnlyMemory<char>>("Label").Select(p => p.ToString().Trim()).ToList();
        var rows = new List<ImageFolder.Row>(paths.Count);
        for (int i = 0; i < paths.Count; i++)
        {
            // Row numbers as a spreadsheet shows them: the header is row 1.
            if (paths[i].Length == 0) throw new UserError($"{option}: '{table.Path}' row {i + 2}: the '{pathColumn}' column is empty.");
            if (labels[i].Length == 0 && !allowEmptyLabel) throw new UserError($"{option}: '{table.Path}' row {i + 2}: the '{labelColumn}' column is empty.");
            string path = Path.GetFullPath(Path.Combine(folder, paths[i]));
            if (!File.Exists(path)) throw new UserError($"{option}: '{table.Path}' row {i + 2}: image '{path}' does not exist.");
            rows.Add(new ImageFolder.Row { Label = labels[i], ImagePath = path });
        }
        if (rows.Count == 0) throw new UserError($"{option}: '{table.Path}' has a header but no rows.");
        return rows;
    }
}
