using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// A CSV or TSV file with a header row, read as ML.NET text columns by their header names. The separator
/// comes from the extension (.tsv/.tab: tab; otherwise comma); CSV fields may be quoted.
/// </summary>
internal sealed class DataTable
{
    public string Path { get; }
    public IReadOnlyList<string> Header { get; }
    readonly char separator;

    DataTable(string path, IReadOnlyList<string> header, char separator) => (Path, Header, this.separator) = (path, header, separator);

    public static bool IsTable(string path) => File.Exists(path) &&
        System.IO.Path.GetExtension(path).ToLowerInvariant() is ".csv" or ".tsv" or ".tab" or ".txt";

    /// <summary>Reads the header of <paramref name="path"/>.</summary>
    /// <exception cref="UserError">The file is missing or has no header row.</exception>
    public static DataTable Open(string path, string what)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new UserError($"{what}: file '{full}' does not exist.");
        char sep = System.IO.Path.GetExtension(full).ToLowerInvariant() is ".tsv" or ".tab" ? '\t' : ',';
        string? first;
        using (var reader = new StreamReader(full)) first = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(first))
            throw new UserError($"{what}: '{full}' is empty; expected a header row with the column names, then one row per example.");
        var header = first.Split(sep).Select(h => h.Trim().Trim('"')).ToList();
        return new DataTable(full, header, sep);
    }

    /// <summary>The index of the column named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="UserError">No such column; the message lists those that exist.</exception>
    public int IndexOf(string name, string option)
    {
        int i = Header.ToList().FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (i < 0)
            throw new UserError($"{option} '{name}': '{Path}' has no such column. Its columns: {string.Join(", ", Header.Select(h => $"'{h}'"))}.");
        return i;
    }

    /// <summary>Loads the named columns as text columns, each under the name given as its key.</summary>
    public IDataView Load(MLContext ml, IReadOnlyList<(string Name, int Index)> columns) =>
        ml.Data.CreateTextLoader(new TextLoader.Options
        {
            HasHeader = true,
            Separators = [separator],
            AllowQuoting = separator == ',',
            ReadMultilines = separator == ',',
            TrimWhitespace = false,
            Columns = columns.Select(c => new TextLoader.Column(c.Name, DataKind.String, c.Index)).ToArray(),
        }).Load(Path);
}
