using System.IO.Compression;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Onnx;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// The texts <c>predict</c> scores, and for a model trained on sentence pairs their second texts. A table with
/// <c>--text-column</c> (and <c>--second-text-column</c>) is read as training reads <c>--data</c>; otherwise a .txt file
/// holds one text per non-empty line (UTF-8, <see cref="Utf8Text"/>) and anything that is no file is the text itself.
/// A .csv/.tsv without <c>--text-column</c> is refused (read by lines, its header and other columns would be scored),
/// and so is a pair model given single texts or a single-text model given pairs: either would answer from inputs unlike
/// its training.
/// </summary>
internal sealed record PredictionTexts(IReadOnlyList<string> Texts, IReadOnlyList<string>? Seconds)
{
    /// <summary>How each input is named in the output: the text, or both texts of a pair joined by ' ‖ ' (as the report does).</summary>
    public IReadOnlyList<string> Names => Seconds is null ? Texts : [.. Texts.Zip(Seconds, (a, b) => $"{a} ‖ {b}")];

    /// <summary>The inputs <paramref name="size"/> at a time: the texts and their second texts (null for single texts).</summary>
    public IEnumerable<(string[] Texts, string[]? Seconds)> Chunks(int size) =>
        Enumerable.Range(0, Texts.Count).Chunk(size).Select(c => (c.Select(i => Texts[i]).ToArray(), Seconds is null ? null : c.Select(i => Seconds[i]).ToArray()));

    public static PredictionTexts Read(string input, string? textColumn, string? secondTextColumn, bool modelReadsPairs)
    {
        if (modelReadsPairs && secondTextColumn == null)
            throw new UserError("--second-text-column: the model was trained on pairs of texts; give --input a CSV/TSV table with " +
                                "--text-column and --second-text-column.");
        if (!modelReadsPairs && secondTextColumn != null)
            throw new UserError("--second-text-column: the model was trained on single texts; leave the option out.");
        if (secondTextColumn != null && textColumn == null)
            throw new UserError("--second-text-column: name the first text's column too (--text-column).");
        if (textColumn != null)
        {
            var table = DataTable.Read(input, "--input");
            var texts = table.Column(table.IndexOf(textColumn, "--text-column"));
            return new PredictionTexts(texts, secondTextColumn == null ? null : table.Column(table.IndexOf(secondTextColumn, "--second-text-column")));
        }
        if (!File.Exists(input)) return new PredictionTexts([input], null);
        if (Path.GetExtension(input).ToLowerInvariant() is ".csv" or ".tsv" or ".tab")
            throw new UserError($"--input: '{Path.GetFullPath(input)}' is a table: name the column that holds the texts with --text-column.");
        try { return new PredictionTexts([.. Utf8Text.Read(input).Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0)], null); }
        catch (InvalidDataException e) { throw new UserError($"--input: '{Path.GetFullPath(input)}' {e.Message}"); }
    }

    /// <summary>Whether the network inside a text model.zip was trained on pairs: its ONNX metadata says so
    /// (<see cref="ExportedModelContract.TextPairsKey"/>). ML.NET's OnnxTransformer keeps the network in an entry named
    /// OnnxModel (a 32-bit length, then the ONNX bytes), and its loaded form does not expose the metadata.</summary>
    public static bool ModelZipReadsPairs(string zipPath)
    {
        using var zip = ZipFile.OpenRead(zipPath);
        var entry = zip.Entries.FirstOrDefault(e => e.Name == "OnnxModel");
        using var stream = entry?.Open();
        var length = new byte[4];
        if (stream is null || stream.ReadAtLeast(length, 4, throwOnEndOfStream: false) < 4 || BitConverter.ToInt32(length) != entry!.Length - 4)
            throw new UserError($"--model: '{zipPath}' holds no ONNX network in ML.NET's layout (an OnnxModel entry); it was not written by mlnet-finetune.");
        try
        {
            var model = OnnxGraph.ReadModel(stream, $"{zipPath}: {entry.FullName}");
            return model.MetadataProps.Any(p => p.Key == ExportedModelContract.TextPairsKey && p.Value == "true");
        }
        catch (InvalidDataException e) { throw new UserError($"--model: {e.Message}"); }
    }
}
