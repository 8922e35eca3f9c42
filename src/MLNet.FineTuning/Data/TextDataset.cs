using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The rows of a text IDataView read once and tokenized: token ids and segment ids per row (already
/// truncated to the maximum length), and labels (0-based classes or target values, <see cref="LabelKind"/>). Tokenized text is small (at most a few hundred
/// int64 per row), so it is always kept in memory; reading once also fails fast on bad rows.
/// </summary>
internal sealed class TextDataset
{
    private TextDataset(BertEncoding[] encodings, LabelKind kind, float[][] labels)
    {
        Encodings = encodings;
        Kind = kind;
        Labels = labels;
    }

    public BertEncoding[] Encodings { get; }
    public LabelKind Kind { get; }
    /// <summary>Per row, as <see cref="LabelReader"/> reads it: [0-based class index], [target value] or the K label flags.</summary>
    public float[][] Labels { get; }
    /// <summary>The labels as class indices (single-label classification only).</summary>
    public int[] ClassIndices => LabelReader.ClassIndices(Labels, Kind);
    public int Count => Labels.Length;

    /// <summary>Unlabelled rows (masked-language-model pretraining): every row gets class 0, which nothing reads.</summary>
    public static TextDataset Unlabelled(BertEncoding[] encodings) =>
        new(encodings, LabelKind.Class, encodings.Select(_ => new[] { 0f }).ToArray());

    public static TextDataset Read(IDataView view, string textColumn, string? pairColumn, string labelColumn,
        ITextTokenizer tokenizer, int maxLength, string role, CancellationToken cancellation, LabelKind kind = LabelKind.Class)
    {
        var columns = new List<DataViewSchema.Column> { view.Schema[textColumn], view.Schema[labelColumn] };
        if (pairColumn != null) columns.Add(view.Schema[pairColumn]);
        using var cursor = view.GetRowCursor(columns);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[textColumn]);
        var getPair = pairColumn == null ? null : cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema[pairColumn]);
        var getLabel = LabelReader.Create(cursor, view.Schema[labelColumn], kind);
        var encodings = new List<BertEncoding>();
        var labels = new List<float[]>();
        ReadOnlyMemory<char> text = default, pair = default;
        long row = -1;
        while (cursor.MoveNext())
        {
            row++;
            cancellation.ThrowIfCancellationRequested();
            var label = getLabel(row);
            getText(ref text);
            getPair?.Invoke(ref pair);
            // Missing text (null in the source) arrives as empty memory: it encodes as [CLS] [SEP].
            encodings.Add(tokenizer.Encode(text.ToString(), pairColumn == null ? null : pair.ToString(), maxLength));
            labels.Add(label);
        }
        if (labels.Count == 0) throw new ArgumentException($"The {role} data has no rows.");
        return new TextDataset(encodings.ToArray(), kind, labels.ToArray());
    }
}
