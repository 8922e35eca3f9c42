using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Text;

/// <summary><c>GetOutputSchema</c> of the three text estimators, as ML.NET calls it when it builds a pipeline: a text column
/// that is missing or not text (the first or the second of a pair) is refused there, naming it, not first at <c>Fit</c>.</summary>
public class TextEstimatorSchemaTests
{
    private sealed class Row
    {
        public string Text { get; set; } = "";
        public string Second { get; set; } = "";
        public float Number { get; set; }
        public string Class { get; set; } = "";
        [VectorType(2)] public bool[] Flags { get; set; } = [false, true];
    }

    /// <summary>The input shape: both texts, a number (the regressor's label), a key (the classifier's), two flags (the
    /// multi-label classifier's).</summary>
    private static SchemaShape Shape(MLContext ml)
    {
        var view = ml.Data.LoadFromEnumerable(new[] { new Row { Class = "a" }, new Row { Class = "b" } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Key", "Class").Fit(view).Transform(view);
        return TestData.ShapeOf(keyed.Schema);
    }

    /// <summary>One of the three estimators, its label on the fitting column, the texts as given.</summary>
    private static IEstimator<ITransformer> Estimator(MLContext ml, string kind, string text, string? second) => kind switch
    {
        "classifier" => new LoraTextClassifier(ml, new LoraTextClassifier.Options { TextColumnName = text, SecondTextColumnName = second, LabelColumnName = "Key" }),
        "regressor" => new LoraTextRegressor(ml, new LoraTextRegressor.Options { TextColumnName = text, SecondTextColumnName = second, LabelColumnName = "Number" }),
        "multilabel" => new LoraTextMultiLabelClassifier(ml, new LoraTextMultiLabelClassifier.Options { TextColumnName = text, SecondTextColumnName = second, LabelColumnName = "Flags" }),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    [Theory]
    [InlineData("classifier")]
    [InlineData("regressor")]
    [InlineData("multilabel")]
    public void GetOutputSchema_TextColumnIsANumber_NamesColumnTypeAndExpectedText(string kind)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.ThrowsAny<ArgumentException>(() => Estimator(ml, kind, "Number", null).GetOutputSchema(Shape(ml)));

        Assert.Equal("Text column 'Number' has type Single; expected text (string).", e.Message);
    }

    [Theory]
    [InlineData("classifier")]
    [InlineData("regressor")]
    [InlineData("multilabel")]
    public void GetOutputSchema_SecondTextColumnMissing_NamesItAndListsColumns(string kind)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.ThrowsAny<ArgumentException>(() => Estimator(ml, kind, "Text", "Answer").GetOutputSchema(Shape(ml)));

        Assert.StartsWith("Text column 'Answer' not found. Columns: Text, Second, Number", e.Message);
    }

    [Theory]
    [InlineData("classifier")]
    [InlineData("regressor")]
    [InlineData("multilabel")]
    public void GetOutputSchema_SecondTextColumnIsAVector_NamesItsVectorType(string kind)
    {
        var ml = new MLContext(seed: 1);

        var e = Assert.ThrowsAny<ArgumentException>(() => Estimator(ml, kind, "Text", "Flags").GetOutputSchema(Shape(ml)));

        Assert.Equal("Text column 'Flags' has type Vector<Boolean>; expected text (string).", e.Message);
    }

    [Theory]
    [InlineData("classifier", SchemaShape.Column.VectorKind.Vector)]
    [InlineData("regressor", SchemaShape.Column.VectorKind.Scalar)]
    [InlineData("multilabel", SchemaShape.Column.VectorKind.Vector)]
    public void GetOutputSchema_TwoTextColumns_AddsScore(string kind, SchemaShape.Column.VectorKind scoreKind)
    {
        var ml = new MLContext(seed: 1);

        var shape = Estimator(ml, kind, "Text", "Second").GetOutputSchema(Shape(ml));

        var score = Assert.Single(shape, c => c.Name == "Score");
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.Equal(scoreKind, score.Kind);
    }
}
