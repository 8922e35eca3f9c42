using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.FineTuning.Data;

/// <summary>Schema checks for image classification: which column, what was expected, what was found.</summary>
internal static class ImageColumns
{
    public static void CheckImage(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Image column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}.");
        if (col.Type is ImageDataViewType) return;
        if (col.Type is VectorDataViewType v && v.ItemType == NumberDataViewType.Byte)
            throw new ArgumentException(
                $"Image column '{column}' holds encoded image bytes (type {col.Type}); this version needs decoded images: " +
                "use mlContext.Transforms.LoadImages(\"Image\", imageFolder, \"ImagePath\") on the file paths instead of LoadRawImageBytes.");
        throw new ArgumentException(
            $"Image column '{column}' has type {col.Type}; expected an image (from mlContext.Transforms.LoadImages).");
    }

    /// <summary>The label must be a key (MapValueToKey), as for every ML.NET multiclass trainer.</summary>
    public static KeyDataViewType CheckLabel(DataViewSchema schema, string column)
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

/// <summary>ML.NET's annotation kind names (its own constants class is internal).</summary>
internal static class AnnotationUtils
{
    public static class Kinds
    {
        public const string KeyValues = "KeyValues";
        public const string SlotNames = "SlotNames";
    }
}
