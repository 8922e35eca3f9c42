using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>What a label column holds: a class (a key, for classification), a number (<c>Single</c>, for regression) or a
/// set of labels (a known-size vector of 0/1, for multi-label classification).</summary>
internal enum LabelKind
{
    /// <summary>A key (<c>MapValueToKey</c>); rows carry the 0-based class index.</summary>
    Class,
    /// <summary>A <c>Single</c> (float) target; rows carry the value.</summary>
    Value,
    /// <summary>A vector of K <c>Boolean</c> or <c>Single</c> 0/1 flags (<see cref="LabelSetColumn"/>); rows carry the K flags.</summary>
    Set,
}

/// <summary>Reads one row's label, whichever its kind, as floats (one for a class index or a value, exact in a float below
/// 2^24 classes; K flags for a label set), and refuses what no model can train on with the row and the column named.</summary>
internal static class LabelReader
{
    /// <summary>A reader of the cursor's current label: [class index], [target value] or the K flags, a new array per row.</summary>
    public static Func<long, float[]> Create(DataViewRowCursor cursor, DataViewSchema.Column column, LabelKind kind)
    {
        switch (kind)
        {
            case LabelKind.Class:
            {
                var getKey = cursor.GetGetter<uint>(column);
                uint key = 0;
                return row =>
                {
                    getKey(ref key);
                    if (key == 0)
                        throw new InvalidDataException($"Row {row}: label column '{column.Name}' is missing (key 0: a value the key mapping does not know).");
                    return [key - 1];
                };
            }
            case LabelKind.Value:
            {
                var getValue = cursor.GetGetter<float>(column);
                float value = 0;
                return row =>
                {
                    getValue(ref value);
                    if (!float.IsFinite(value))
                        throw new InvalidDataException($"Row {row}: label column '{column.Name}' is {value}; a regression target must be a finite number (drop or fill such rows, e.g. mlContext.Data.FilterRowsByMissingValues).");
                    return [value];
                };
            }
            default:
                return LabelSetColumn.Reader(cursor, column);
        }
    }

    /// <summary>The rows' class indices (single-label classification only).</summary>
    public static int[] ClassIndices(float[][] labels, LabelKind kind) => kind == LabelKind.Class ? labels.Select(l => (int)l[0]).ToArray()
        : throw new InvalidOperationException($"Labels of kind {kind} have no class indices.");

    /// <summary>The rows' target values (regression only).</summary>
    public static float[] Values(float[][] labels) => labels.Select(l => l[0]).ToArray();

    /// <summary>A batch's labels as the loss takes them: int64 class indices [n], float32 values [n], or float32 flags [n, K].</summary>
    public static TorchSharp.torch.Tensor ToTensor(IReadOnlyList<float[]> labels, LabelKind kind) => kind switch
    {
        LabelKind.Class => TorchSharp.torch.tensor(labels.Select(l => (long)l[0]).ToArray()),
        LabelKind.Value => TorchSharp.torch.tensor(labels.Select(l => l[0]).ToArray()),
        _ => TorchSharp.torch.tensor(labels.SelectMany(l => l).ToArray(), [labels.Count, labels.Count == 0 ? 0 : labels[0].Length]),
    };
}
