using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests.Data;

/// <summary>A <c>ValidationSet</c> keyed apart from the training data: its labels mapped to the training's classes by
/// name, or refused naming what differs.</summary>
public class ValidationDataTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        public float Value { get; set; }
    }

    private static readonly string[] TrainNames = ["cat", "dog", "bird"];

    /// <summary>The labels keyed by a MapValueToKey fitted on these rows alone (classes in the order the rows first show them).</summary>
    private static IDataView KeyedAlone(MLContext ml, params string[] labels)
    {
        var view = ml.Data.LoadFromEnumerable(labels.Select(l => new Row { Label = l }));
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
    }

    private static string[] KeyNames(IDataView view)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        view.Schema["Label"].GetKeyValues(ref names);
        return [.. names.DenseValues().Select(n => n.ToString())];
    }

    /// <summary>Each row's label as the class name its key stands for.</summary>
    private static string[] LabelsByName(MLContext ml, IDataView view) =>
        [.. ml.Transforms.Conversion.MapKeyToValue("Name", "Label").Fit(view).Transform(view).GetColumn<string>("Name")];

    private static IDataView Align(MLContext ml, IDataView valid, LabelKind kind, string[] trainNames, List<string>? log = null) =>
        ValidationData.Align(ml, valid, _ => { }, "Label", kind, trainNames, m => log?.Add(m));

    [Fact]
    public void Align_KeyOfAnotherOrder_MapsEveryRowToTheTrainingClassOfItsName_AndSaysSo()
    {
        var ml = new MLContext(1);
        var valid = KeyedAlone(ml, "bird", "cat", "bird", "dog");
        Assert.Equal(["bird", "cat", "dog"], KeyNames(valid));     // a key of its own: bird is key 1 here, key 3 in training
        var log = new List<string>();

        var aligned = Align(ml, valid, LabelKind.Class, TrainNames, log);

        Assert.Equal(TrainNames, KeyNames(aligned));
        Assert.Equal(["bird", "cat", "bird", "dog"], LabelsByName(ml, aligned));
        Assert.Equal([3u, 1u, 3u, 2u], aligned.GetColumn<uint>("Label"));
        Assert.Contains("Evaluate compares keys by position", Assert.Single(log));
    }

    [Fact]
    public void Align_SameKey_OrItsStart_IsKeptAsItIs()
    {
        var ml = new MLContext(1);
        var same = KeyedAlone(ml, "cat", "dog", "bird");
        var start = KeyedAlone(ml, "cat", "dog", "cat");
        var log = new List<string>();

        Assert.Same(same, Align(ml, same, LabelKind.Class, TrainNames, log));
        Assert.Same(start, Align(ml, start, LabelKind.Class, TrainNames, log));
        Assert.Empty(log);
    }

    [Fact]
    public void Align_ClassTheTrainingDataHasNot_IsRefusedNamingItAndTheFix()
    {
        var ml = new MLContext(1);
        var valid = KeyedAlone(ml, "cat", "fish");

        var e = Assert.Throws<ArgumentException>(() => Align(ml, valid, LabelKind.Class, TrainNames));

        Assert.StartsWith("The validation data (ValidationSet): label column 'Label' has the class 'fish'", e.Message);
        Assert.Contains("3 classes: 'cat', 'dog', 'bird'", e.Message);
        Assert.Contains("MapValueToKey(\"Label\").Fit(train)", e.Message);
    }

    [Fact]
    public void Align_ColumnsTheCheckRefuses_AreNamedAsTheValidationData()
    {
        var ml = new MLContext(1);
        var valid = KeyedAlone(ml, "cat");

        var missing = Assert.ThrowsAny<ArgumentException>(() => ValidationData.Align(ml, valid,
            s => _ = s.GetColumnOrNull("Text") ?? throw new ArgumentOutOfRangeException("column", "Text column 'Text' not found."), "Label", LabelKind.Class, TrainNames, _ => { }));
        var notKey = Assert.Throws<ArgumentException>(() => Align(ml, ml.Data.LoadFromEnumerable(new[] { new Row { Label = "cat" } }), LabelKind.Class, TrainNames));
        var notTarget = Assert.Throws<ArgumentException>(() => Align(ml, valid, LabelKind.Value, []));

        Assert.StartsWith("The validation data (ValidationSet): Text column 'Text' not found", missing.Message);
        Assert.StartsWith("The validation data (ValidationSet): Label column 'Label' has type String; expected a key type", notKey.Message);
        Assert.StartsWith("The validation data (ValidationSet): Label column 'Label' has type Key", notTarget.Message);
        Assert.Contains("a regression target must be Single", notTarget.Message);
    }

    [Fact]
    public void Align_LabelSetOfOtherLabels_IsRefusedListingBoth()
    {
        var ml = new MLContext(1);
        var view = ml.Data.LoadFromEnumerable(new[] { new Row { Label = "red;blue" }, new Row { Label = "green" } });
        var valid = ml.Transforms.Text.TokenizeIntoWords("Tags", "Label", [';'])
            .Append(ml.Transforms.Categorical.OneHotEncoding("Flags", "Tags", Microsoft.ML.Transforms.OneHotEncodingEstimator.OutputKind.Bag))
            .Fit(view).Transform(view);

        var e = Assert.Throws<ArgumentException>(() => ValidationData.Align(ml, valid, _ => { }, "Flags", LabelKind.Set, ["blue", "red", "green"], _ => { }));
        var kept = ValidationData.Align(ml, valid, _ => { }, "Flags", LabelKind.Set, ["red", "blue", "green"], _ => { });

        Assert.Contains("holds 3 labels ('red', 'blue', 'green') where the training data's holds 3 ('blue', 'red', 'green')", e.Message);
        Assert.Same(valid, kept);
    }
}
