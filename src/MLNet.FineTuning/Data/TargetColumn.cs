using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>The label column every fine-tuning regressor takes: a <c>Single</c> (float), as for every ML.NET regression
/// trainer. Checks name the column, what was expected and what was found.</summary>
internal static class TargetColumn
{
    public static void Check(DataViewSchema schema, string column)
    {
        var col = schema.GetColumnOrNull(column) ?? throw new ArgumentOutOfRangeException(
            nameof(column), $"Label column '{column}' not found. Columns: {string.Join(", ", schema.Where(c => !c.IsHidden).Select(c => c.Name))}.");
        if (col.Type != NumberDataViewType.Single)
            throw new ArgumentException(
                $"Label column '{column}' has type {col.Type}; a regression target must be Single (float). " +
                $"Convert it with mlContext.Transforms.Conversion.ConvertType(\"{column}\", outputKind: DataKind.Single) before the trainer.");
    }
}
