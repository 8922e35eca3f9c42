using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>Schema check of the text columns (the text twin of <see cref="ImageColumns"/>): which column, what was expected,
/// what was found. <c>Fit</c> checks the data's schema and <c>GetOutputSchema</c> the shape, so that a pipeline refuses a
/// wrong column when ML.NET builds it (CrossValidate, schema checks), not only when it trains.</summary>
internal static class TextColumns
{
    /// <summary>Checks the text column and, for sentence pairs, the second one.</summary>
    public static void CheckTexts(DataViewSchema schema, string column, string? secondColumn)
    {
        CheckText(schema, column);
        if (secondColumn != null) CheckText(schema, secondColumn);
    }

    /// <summary>The same checks on a schema shape (<c>GetOutputSchema</c>).</summary>
    public static void CheckTexts(SchemaShape shape, string column, string? secondColumn)
    {
        CheckText(shape, column);
        if (secondColumn != null) CheckText(shape, secondColumn);
    }

    private static void CheckText(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Text column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => $"{c.Name} ({c.Type})"))}.");
        if (col.Type is not TextDataViewType) throw WrongType(column, $"{col.Type}");
    }

    private static void CheckText(SchemaShape shape, string column)
    {
        var col = shape.FirstOrDefault(c => c.Name == column);
        if (col.Name == null)
            throw new ArgumentOutOfRangeException(nameof(shape), $"Text column '{column}' not found. Columns: {string.Join(", ", shape.Select(c => c.Name))}.");
        if (col.ItemType is not TextDataViewType || col.Kind != SchemaShape.Column.VectorKind.Scalar)
            throw WrongType(column, col.Kind == SchemaShape.Column.VectorKind.Scalar ? $"{col.ItemType}" : $"Vector<{col.ItemType}>");
    }

    private static ArgumentException WrongType(string column, string found) =>
        new($"Text column '{column}' has type {found}; expected text (string).");
}
