using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.FineTuning.Data;

/// <summary>The two kinds of image column the image classifier accepts.</summary>
internal enum ImageColumnKind
{
    /// <summary>Decoded images (<c>MLImage</c>, from <c>LoadImages</c>).</summary>
    Decoded,
    /// <summary>Encoded image bytes (<c>VBuffer&lt;byte&gt;</c>, from <c>LoadRawImageBytes</c>), decoded by this library.</summary>
    Encoded,
}

/// <summary>Schema check of the image column: which column, what was expected, what was found.</summary>
internal static class ImageColumns
{
    private const string Accepted = "an image (MLImage, from mlContext.Transforms.LoadImages) or encoded image bytes " +
                                    "(VBuffer<byte>, from mlContext.Transforms.LoadRawImageBytes)";

    public static ImageColumnKind CheckImage(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Image column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}.");
        return KindOf(col.Type) ?? throw WrongType(column, $"{col.Type}");
    }

    /// <summary>The same check on a schema shape (<c>GetOutputSchema</c>).</summary>
    public static void CheckImage(SchemaShape shape, string column)
    {
        var col = shape.FirstOrDefault(c => c.Name == column);
        if (col.Name == null)
            throw new ArgumentOutOfRangeException(nameof(shape), $"Image column '{column}' not found.");
        bool image = col.ItemType is ImageDataViewType && col.Kind == SchemaShape.Column.VectorKind.Scalar;
        bool bytes = col.ItemType == NumberDataViewType.Byte && col.Kind != SchemaShape.Column.VectorKind.Scalar;
        if (!image && !bytes)
            throw WrongType(column, col.Kind == SchemaShape.Column.VectorKind.Scalar ? $"{col.ItemType}" : $"Vector<{col.ItemType}>");
    }

    /// <summary>The kind of an image column's type, or null when it is neither.</summary>
    public static ImageColumnKind? KindOf(DataViewType type) => type switch
    {
        ImageDataViewType => ImageColumnKind.Decoded,
        VectorDataViewType v when v.ItemType == NumberDataViewType.Byte => ImageColumnKind.Encoded,
        _ => null,
    };

    private static ArgumentException WrongType(string column, string found) =>
        new($"Image column '{column}' has type {found}; expected {Accepted}.");
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
