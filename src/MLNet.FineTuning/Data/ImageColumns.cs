using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.FineTuning.Data;

/// <summary>Schema check of the image column: which column, what was expected, what was found.</summary>
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
