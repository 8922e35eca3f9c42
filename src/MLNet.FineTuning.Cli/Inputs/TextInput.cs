namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>One example of a text table: its label and one or two texts.</summary>
internal sealed class TextRow
{
    public string Label { get; set; } = "";
    public string Text { get; set; } = "";
    public string Text2 { get; set; } = "";
}

/// <summary>The rows of a CSV/TSV table with a label column and one or two text columns.</summary>
internal static class TextInput
{
    public static IReadOnlyList<TextRow> Read(string data, string option, string textColumn, string? secondTextColumn, string labelColumn, bool allowEmptyLabel = false)
    {
        if (Directory.Exists(data))
            throw new UserError($"{option}: '{Path.GetFullPath(data)}' is a folder; text data is a CSV or TSV file with a header row.");
        var table = DataTable.Read(data, option);
        var labels = table.Column(table.IndexOf(labelColumn, "--label-column")).Select(l => l.Trim()).ToList();
        var texts = table.Column(table.IndexOf(textColumn, "--text-column"));
        var texts2 = secondTextColumn != null ? table.Column(table.IndexOf(secondTextColumn, "--second-text-column")) : null;
        var rows = new List<TextRow>(labels.Count);
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i].Length == 0 && !allowEmptyLabel) throw new UserError($"{option}: {table.Where(i)}: the '{labelColumn}' column is empty.");
            rows.Add(new TextRow { Label = labels[i], Text = texts[i], Text2 = texts2?[i] ?? "" });
        }
        if (rows.Count == 0) throw new UserError($"{option}: '{table.Path}' has a header but no rows.");
        return rows;
    }
}
