using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The label column every fine-tuning classifier takes: a key (as for every ML.NET multiclass trainer) whose
/// key values are the class names. Checks name the column, what was expected and what was found.
/// </summary>
internal static class LabelColumn
{
    /// <summary>The class names of a key-typed label, in key order; at least two.</summary>
    public static string[] Read(DataViewSchema schema, string column)
    {
        var names = ClassNames(schema, column, CheckKey(schema, column));
        if (names.Length < 2)
            throw new ArgumentException($"Label column '{column}' has {names.Length} class; a classifier needs at least 2.");
        return names;
    }

    /// <summary>The training rows must hold at least two of the classes. Classes of the key that no training row holds
    /// are named in the log: the head has an output for each, which training never teaches (a key fitted on more rows
    /// than the training ones, or a class whose rows all went to <c>ValidationFraction</c>'s split). The multi-label
    /// counterpart is <see cref="LabelSetColumn.CheckTrainingRows"/>.</summary>
    public static void CheckTrainingRows(int[] labels, IReadOnlyList<string> classNames, string column, Microsoft.ML.Runtime.IChannel log)
    {
        var present = labels.ToHashSet();
        if (present.Count < 2)
            throw new ArgumentException($"Label column '{column}' has a single class ('{classNames[labels[0]]}') in the training data; a classifier needs at least 2.");
        var absent = Enumerable.Range(0, classNames.Count).Where(k => !present.Contains(k)).Select(k => $"'{classNames[k]}'").ToList();
        if (absent.Count > 0)
            log.Warning(Microsoft.ML.Runtime.MessageSensitivity.None, $"Label column '{column}': {absent.Count} of the key's {classNames.Count} classes have no training row " +
                 $"({string.Join(", ", absent.Take(10))}{(absent.Count > 10 ? $" and {absent.Count - 10} more" : "")}): the model keeps an output for each " +
                 "but never learns them. Fit MapValueToKey on the training rows, or give those classes training rows (a ValidationFraction split " +
                 "can take all of a rare class's rows).");
    }

    /// <summary>The label must be a key (MapValueToKey), as for every ML.NET multiclass trainer.</summary>
    public static KeyDataViewType CheckKey(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Label column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (col.Type is KeyDataViewType key && key.RawType == typeof(uint)) return key;
        throw new ArgumentException(
            $"Label column '{column}' has type {col.Type}; expected a key type. Add mlContext.Transforms.Conversion.MapValueToKey(\"{column}\") before the trainer.");
    }

    /// <summary>The label's key values as text (class names), in key order; "0", "1"... when the key has none.</summary>
    public static string[] ClassNames(DataViewSchema schema, string column, KeyDataViewType key)
    {
        var col = schema[column];
        int count = checked((int)key.Count);
        var names = Enumerable.Range(0, count).Select(i => i.ToString()).ToArray();
        var annotation = col.Annotations.Schema.GetColumnOrNull(AnnotationUtils.Kinds.KeyValues);
        if (annotation is null) return names;
        if (annotation.Value.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            VBuffer<ReadOnlyMemory<char>> values = default;
            col.GetKeyValues(ref values);
            int i = 0;
            foreach (var v in values.DenseValues()) names[i++] = v.ToString();
            return names;
        }
        throw new NotSupportedException(
            $"Label column '{column}' maps keys to values of type {annotation.Value.Type}; text class names are supported. " +
            $"Convert the label to text before MapValueToKey (e.g. mlContext.Transforms.Conversion.ConvertType).");
    }
}
