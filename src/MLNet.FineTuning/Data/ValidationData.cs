using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>
/// The validation data held against the training data: its input columns checked as the training's are, and its label
/// column meaning what the training's does. A key's values are positions in its own list
/// of class names, so a <c>ValidationSet</c> keyed by a <c>MapValueToKey</c> fitted on the validation rows (an easy slip:
/// each fit orders the classes as its rows first show them) would be scored against the wrong classes, and early
/// stopping, the best epoch and the automatic recipe would all choose on scrambled labels without any error.
/// </summary>
internal static class ValidationData
{
    private const string Fix = "Fit one MapValueToKey on the training data and transform both with it: " +
                               "var keys = mlContext.Transforms.Conversion.MapValueToKey(\"{0}\").Fit(train); options.ValidationSet = keys.Transform(validation).";

    /// <summary>
    /// <paramref name="valid"/>, its input columns checked by <paramref name="checkInputs"/> (errors name the validation
    /// data), with its labels meaning what the training data's do: a key with other class names or
    /// another order is mapped to the training's by name (<paramref name="log"/> says so); a class the training data
    /// does not have, or a multi-label vector with other labels, is refused. Targets (regression) are only checked.
    /// </summary>
    public static IDataView Align(MLContext ml, IDataView valid, Action<DataViewSchema> checkInputs, string column, LabelKind kind, string[] trainNames,
        Action<string> log)
    {
        try
        {
            checkInputs(valid.Schema);
            return kind switch
            {
                LabelKind.Class => AlignKeys(ml, valid, column, trainNames, log),
                LabelKind.Set => CheckSameLabels(valid, column, trainNames),
                _ => CheckTarget(valid, column),
            };
        }
        catch (ArgumentException e) when (!e.Message.StartsWith(Role, StringComparison.Ordinal))
        {
            throw new ArgumentException($"{Role}{e.Message}", e);
        }
    }

    private const string Role = "The validation data (ValidationSet): ";

    private static IDataView AlignKeys(MLContext ml, IDataView valid, string column, string[] trainNames, Action<string> log)
    {
        var names = LabelColumn.ClassNames(valid.Schema, column, LabelColumn.CheckKey(valid.Schema, column));
        // The same list, or its start (a key of fewer classes without names): every key means the training's class.
        if (names.Length <= trainNames.Length && names.SequenceEqual(trainNames.Take(names.Length))) return valid;
        var unknown = names.Except(trainNames, StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException(
                $"{Role}label column '{column}' has the class{(unknown.Length == 1 ? "" : "es")} {Quoted(unknown, 5)}, which the training data's key does not " +
                $"({trainNames.Length} classes: {Quoted(trainNames, 10)}). " + string.Format(Fix, column));
        if (trainNames.Distinct(StringComparer.Ordinal).Count() != trainNames.Length)
            throw new ArgumentException(
                $"{Role}label column '{column}' lists its classes in another order than the training data's key, whose class names repeat, " +
                "so they cannot be matched by name. " + string.Format(Fix, column));
        log($"The validation data's label key (column '{column}') lists its {names.Length} classes otherwise than the training data's key; its rows " +
            "are mapped to the training's classes by name here, but ML.NET's Evaluate compares keys by position: key every data set you evaluate " +
            "with the MapValueToKey fitted on the training data.");
        var keys = ml.Data.LoadFromEnumerable(trainNames.Select(n => new KeyName { Name = n }));
        return ml.Transforms.Conversion.MapKeyToValue(column, column)
            .Append(ml.Transforms.Conversion.MapValueToKey(column, column, keyData: keys))
            .Fit(valid).Transform(valid);
    }

    private static IDataView CheckSameLabels(IDataView valid, string column, string[] trainNames)
    {
        var names = LabelSetColumn.Read(valid.Schema, column);
        if (!names.SequenceEqual(trainNames))
            throw new ArgumentException(
                $"{Role}label column '{column}' holds {names.Length} labels ({Quoted(names, 10)}) where the training data's holds {trainNames.Length} " +
                $"({Quoted(trainNames, 10)}); each position must be the same label. Fit the encoding (e.g. OneHotEncoding with OutputKind.Bag) " +
                "on the training data and transform both with it.");
        return valid;
    }

    private static IDataView CheckTarget(IDataView valid, string column)
    {
        TargetColumn.Check(valid.Schema, column);
        return valid;
    }

    private static string Quoted(IEnumerable<string> names, int most)
    {
        var list = names.ToList();
        return string.Join(", ", list.Take(most).Select(n => $"'{n}'")) + (list.Count > most ? $" and {list.Count - most} more" : "");
    }

    private sealed class KeyName
    {
        public string Name { get; set; } = "";
    }
}
