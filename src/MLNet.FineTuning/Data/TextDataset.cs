using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The rows of a text IDataView read once and tokenized: token ids and segment ids per row (already
/// truncated to the maximum length), and 0-based labels. Tokenized text is small (at most a few hundred
/// int64 per row), so it is always kept in memory; reading once also fails fast on bad rows.
/// </summary>
internal sealed class TextDataset
{
    private TextDataset(BertEncoding[] encodings, int[] labels)
    {
        Encodings = encodings;
        Labels = labels;
    }

    public BertEncoding[] Encodings { get; }
    public int[] Labels { get; }
    public int Count => Labels.Length;

    public static TextDataset Read(IDataView view, string textColumn, string? pairColumn, string labelColumn,
        BertTextTokenizer tokenizer, int maxLength, string role, CancellationToken cancellation)
    {
        var columns = new List<DataViewSchema.Column> { view.Schema[textColumn], view.Schema[labelColumn] };
        if (pairColumn != null) columns.Add(view.Schema[pairColumn]);
        using var cursor = view.GetRowCursor(columns);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[textColumn]);
        var getPair = pairColumn == null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[pairColumn]);
        var getLabel = cursor.GetGetter<uint>(view.Schema[labelColumn]);
        var encodings = new List<BertEncoding>();
        var labels = new List<int>();
        ReadOnlyMemory<char> text = default, pair = default;
        uint key = 0;
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            cancellation.ThrowIfCancellationRequested();
            getLabel(ref key);
            if (key == 0)
                throw new InvalidDataException($"Row {row}: label column '{labelColumn}' is missing (key 0: a value the key mapping does not know).");
            getText(ref text);
            getPair?.Invoke(ref pair);
            // Missing text (null in the source) arrives as empty memory: it encodes as [CLS] [SEP].
            encodings.Add(tokenizer.Encode(text.ToString(), pairColumn == null ? null : pair.ToString(), maxLength));
            labels.Add((int)key - 1);
        }
        if (labels.Count == 0) throw new ArgumentException($"The {role} data has no rows.");
        return new TextDataset(encodings.ToArray(), labels.ToArray());
    }
}
