using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>What a label column holds: a class (a key, for classification) or a number (<c>Single</c>, for regression).</summary>
internal enum LabelKind
{
    /// <summary>A key (<c>MapValueToKey</c>); rows carry the 0-based class index.</summary>
    Class,
    /// <summary>A <c>Single</c> (float) target; rows carry the value.</summary>
    Value,
}

/// <summary>Reads one row's label, whichever its kind, as a float (a class index is exact in a float below 2^24 classes),
/// and refuses what no model can train on with the row and the column named.</summary>
internal static class LabelReader
{
    /// <summary>A reader of the cursor's current label: the 0-based class index, or the target value.</summary>
    public static Func<long, float> Create(DataViewRowCursor cursor, DataViewSchema.Column column, LabelKind kind)
    {
        if (kind == LabelKind.Class)
        {
            var getKey = cursor.GetGetter<uint>(column);
            uint key = 0;
            return row =>
            {
                getKey(ref key);
                if (key == 0)
                    throw new InvalidDataException($"Row {row}: label column '{column.Name}' is missing (key 0: a value the key mapping does not know).");
                return key - 1;
            };
        }
        var getValue = cursor.GetGetter<float>(column);
        float value = 0;
        return row =>
        {
            getValue(ref value);
            if (!float.IsFinite(value))
                throw new InvalidDataException($"Row {row}: label column '{column.Name}' is {value}; a regression target must be a finite number (drop or fill such rows, e.g. mlContext.Data.FilterRowsByMissingValues).");
            return value;
        };
    }

    /// <summary>A batch's labels as the loss takes them: int64 class indices, or float32 values.</summary>
    public static TorchSharp.torch.Tensor ToTensor(IReadOnlyList<float> labels, LabelKind kind) => kind == LabelKind.Class
        ? TorchSharp.torch.tensor(labels.Select(l => (long)l).ToArray())
        : TorchSharp.torch.tensor(labels.ToArray());
}
