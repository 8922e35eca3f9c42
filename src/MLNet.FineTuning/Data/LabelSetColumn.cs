using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The label column every multi-label classifier takes: a vector of known size K ≥ 2, <c>Boolean</c> or <c>Single</c>, one
/// flag per label (1 or true: the row has the label). ML.NET has no multi-label type; this is the shape its own transforms
/// give: <c>OneHotEncoding(..., OutputKind.Bag)</c> over a vector of tag texts (e.g. from <c>TokenizeIntoWords</c> with the
/// tags' separator) makes it, with the tags as slot names. Checks name the column, what was expected and what was found.
/// </summary>
internal static class LabelSetColumn
{
    /// <summary>The K label names: the vector's slot names when it has them (ML.NET's <c>SlotNames</c> annotation), else "0".."K-1".</summary>
    public static string[] Read(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Label column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (col.Type is not VectorDataViewType { IsKnownSize: true, Size: >= 2 } vector
            || (vector.ItemType != BooleanDataViewType.Instance && vector.ItemType != NumberDataViewType.Single))
            throw new ArgumentException(
                $"Label column '{column}' has type {col.Type}; a multi-label classifier takes a vector of known size (at least 2) of Boolean or Single, " +
                $"one 0/1 flag per label. From a text column of tags separated by ';': mlContext.Transforms.Text.TokenizeIntoWords(\"Tags\", separators: new[] {{ ';' }})" +
                $".Append(mlContext.Transforms.Categorical.OneHotEncoding(\"{column}\", \"Tags\", OneHotEncodingEstimator.OutputKind.Bag)).");
        var names = Enumerable.Range(0, vector.Size).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        if (col.HasSlotNames())
        {
            VBuffer<ReadOnlyMemory<char>> slots = default;
            col.GetSlotNames(ref slots);
            int i = 0;
            foreach (var s in slots.DenseValues()) { if (i < names.Length && !s.IsEmpty) names[i] = s.ToString(); i++; }
        }
        return names;
    }

    /// <summary>A reader of the K flags of the cursor's row; a value other than 0 and 1 (or missing) is refused, naming
    /// the row, the column and the label.</summary>
    public static Func<long, float[]> Reader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var vector = (VectorDataViewType)column.Type;
        var names = Read(cursor.Schema, column.Name);
        if (vector.ItemType == BooleanDataViewType.Instance)
        {
            var getFlags = cursor.GetGetter<VBuffer<bool>>(column);
            VBuffer<bool> flags = default;
            return row =>
            {
                getFlags(ref flags);
                return flags.DenseValues().Select(f => f ? 1f : 0f).ToArray();
            };
        }
        var getValues = cursor.GetGetter<VBuffer<float>>(column);
        VBuffer<float> values = default;
        return row =>
        {
            getValues(ref values);
            var dense = values.DenseValues().ToArray();
            for (int k = 0; k < dense.Length; k++)
                if (dense[k] != 0 && dense[k] != 1)
                    throw new InvalidDataException(
                        $"Row {row}: label column '{column.Name}' holds {dense[k]} for label '{names[k]}' (slot {k}); a multi-label flag must be 0 or 1.");
            return dense;
        };
    }

    /// <summary>Each label's share of rows that have it.</summary>
    public static double[] PositiveShares(IReadOnlyList<float[]> labels, int labelCount) =>
        [.. Positives(labels, labelCount).Select(p => p / (double)Math.Max(1, labels.Count))];

    /// <summary>Each label's count of rows that have it.</summary>
    private static int[] Positives(IReadOnlyList<float[]> labels, int labelCount)
    {
        var positives = new int[labelCount];
        foreach (var row in labels)
            for (int k = 0; k < labelCount; k++)
                if (row[k] > 0) positives[k]++;
        return positives;
    }

    /// <summary>The training rows must hold some label; a label that no row has, or that every row has, cannot be
    /// learnt (its output only learns the constant): named in the log, as the run goes on for the others.</summary>
    public static void CheckTrainingRows(IReadOnlyList<float[]> labels, IReadOnlyList<string> labelNames, string column, Microsoft.ML.Runtime.IChannel log)
    {
        var positives = Positives(labels, labelNames.Count);
        if (positives.All(p => p == 0))
            throw new ArgumentException($"Label column '{column}' has no label set on any training row; a multi-label classifier needs rows with labels.");
        var constant = Enumerable.Range(0, positives.Length).Where(k => positives[k] == 0 || positives[k] == labels.Count).ToList();
        if (constant.Count > 0)
            log.Warning(Microsoft.ML.Runtime.MessageSensitivity.None, $"Label column '{column}': {string.Join(", ", constant.Select(k => $"'{labelNames[k]}' ({(positives[k] == 0 ? "on no" : "on every")} training row)"))} " +
                        "cannot be learnt from these rows; its output will be constant.");
    }
}
