namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// A CSV or TSV file with a header row, read whole as UTF-8 (<see cref="Utf8Text"/>). The separator comes from the
/// extension (.tsv/.tab: tab, fields unquoted), else from the header row: comma, else semicolon (how spreadsheets
/// write CSV in locales with a decimal comma), else tab; such fields may be quoted (<see cref="DelimitedRecords"/>).
/// Every row must have the header's number of fields: a row with more is almost always a text with an unquoted comma,
/// and reading it by position would put part of the text in the label column.
/// </summary>
internal sealed class DataTable
{
    public string Path { get; }
    public IReadOnlyList<string> Header { get; }
    /// <summary>The rows after the header, each with as many fields as the header.</summary>
    public IReadOnlyList<DelimitedRecords.Record> Rows { get; }
    readonly char separator;

    DataTable(string path, IReadOnlyList<string> header, IReadOnlyList<DelimitedRecords.Record> rows, char separator) =>
        (Path, Header, Rows, this.separator) = (path, header, rows, separator);

    public static bool IsTable(string path) => File.Exists(path) &&
        System.IO.Path.GetExtension(path).ToLowerInvariant() is ".csv" or ".tsv" or ".tab" or ".txt";

    /// <summary>Reads <paramref name="path"/>, its header and every row.</summary>
    /// <exception cref="UserError">The file is missing, has no header row, or a row is malformed (the message names
    /// the file, the line and what was expected).</exception>
    public static DataTable Read(string path, string what)
    {
        string full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full)) throw new UserError($"{what}: file '{full}' does not exist.");
        bool tsv = System.IO.Path.GetExtension(full).ToLowerInvariant() is ".tsv" or ".tab";
        try
        {
            string text = Utf8Text.Read(full);
            string? first = ReadFirstLine(new StringReader(text));
            if (first == null)
                throw new UserError($"{what}: '{full}' is empty; expected a header row with the column names, then one row per example.");
            char sep = tsv ? '\t' : CsvSeparator(first);
            var records = DelimitedRecords.Read(new StringReader(text), sep, quoting: !tsv).ToList();
            var header = records[0].Fields.Select(h => h.Trim()).ToList();
            var rows = records.Skip(1).ToList();
            foreach (var row in rows)
                if (row.Fields.Count != header.Count)
                    throw new UserError($"{what}: '{full}' line {row.Line}: {Count(row.Fields.Count)} where the header has {Count(header.Count)} " +
                                        $"(separated by '{DelimitedRecords.Name(sep)}'). {Advice(sep, tsv, row.Fields.Count > header.Count)}");
            return new DataTable(full, header, rows, sep);
        }
        catch (InvalidDataException e) { throw new UserError($"{what}: '{full}' {e.Message}"); }
    }

    /// <summary>The index of the column named <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="UserError">No such column; the message lists those that exist.</exception>
    public int IndexOf(string name, string option)
    {
        int i = Header.ToList().FindIndex(h => string.Equals(h, name, StringComparison.OrdinalIgnoreCase));
        if (i >= 0) return i;
        string columns = string.Join(", ", Header.Select(h => $"'{h}'"));
        throw new UserError(Header.Count == 1
            ? $"{option} '{name}': '{Path}' has one column, {columns}: its header row was read as separated by '{DelimitedRecords.Name(separator)}'; " +
              "a CSV file separates columns by ',' (else by ';' or tabs, whichever its header row has), a .tsv file by tabs."
            : $"{option} '{name}': '{Path}' has no such column. Its columns: {columns}.");
    }

    /// <summary>The field of column <paramref name="index"/> in every row, in order.</summary>
    public IReadOnlyList<string> Column(int index) => [.. Rows.Select(r => r.Fields[index])];

    /// <summary>Row i's number as a message gives it: the line it starts on.</summary>
    public string Where(int row) => $"'{Path}' line {Rows[row].Line}";

    static string? ReadFirstLine(TextReader reader)
    {
        while (reader.ReadLine() is string line)
            if (!string.IsNullOrWhiteSpace(line)) return line;
        return null;
    }

    /// <summary>The first of comma, semicolon and tab that the header row has outside quotes (comma if none): a
    /// spreadsheet's CSV uses semicolons where the decimal mark is a comma, and Excel's "Unicode text" tabs.</summary>
    static char CsvSeparator(string header)
    {
        var found = new HashSet<char>();
        bool quoted = false;
        foreach (char c in header)
            if (c == '"') quoted = !quoted;
            else if (!quoted) found.Add(c);
        return new[] { ',', ';', '\t' }.FirstOrDefault(found.Contains, ',');
    }

    static string Count(int fields) => fields == 1 ? "1 field" : $"{fields} fields";

    static string Advice(char separator, bool tsv, bool more) => (tsv, more) switch
    {
        (true, true) => "A text that holds a tab cannot be stored in a TSV file: replace its tabs, or write a quoted CSV.",
        (false, true) => $"A field that holds '{DelimitedRecords.Name(separator)}' must be in double quotes" +
                         (separator == '\t' ? "." : $" (\"like{separator} this\")."),
        _ => "Give every row a value for every column (an empty one is written as nothing between two separators).",
    };
}
