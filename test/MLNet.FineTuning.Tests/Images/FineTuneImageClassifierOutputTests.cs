using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>The columns a fitted classifier adds, as ML.NET code downstream of it sees them.</summary>
[Collection(ThreeClassModelCollection.Name)]
public class FineTuneImageClassifierOutputTests(ThreeClassModel fixture)
{
    private static string[] KeyValues(DataViewSchema.Column column)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        column.GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }

    [Fact]
    public void Transform_Fitted_ScoreIsFloatVectorOfClassCount()
    {
        var score = fixture.Model.Transform(fixture.Test).Schema["Score"];

        var type = Assert.IsType<VectorDataViewType>(score.Type);
        Assert.Equal(NumberDataViewType.Single, type.ItemType);
        Assert.Equal(3, type.Size);
    }

    [Fact]
    public void Transform_Fitted_PredictedLabelIsKeyWithTrainingLabelValues()
    {
        var predicted = fixture.Model.Transform(fixture.Test).Schema["PredictedLabel"];

        var key = Assert.IsType<KeyDataViewType>(predicted.Type);
        Assert.Equal(3UL, key.Count);
        var trainingValues = KeyValues(fixture.Train.Schema["Label"]);
        Assert.Equal(trainingValues, KeyValues(predicted));
        Assert.Equal(trainingValues, fixture.Model.ClassNames);
    }

    [Fact]
    public void Transform_Fitted_ScoresAreProbabilitiesAndPredictedLabelIsTheirArgmax()
    {
        var scored = fixture.Model.Transform(fixture.Test);
        var rows = fixture.Ml.Data.CreateEnumerable<KeyPrediction>(scored, reuseRowObject: false).ToArray();

        Assert.Equal(fixture.TestRows.Length, rows.Length);
        foreach (var r in rows)
        {
            Assert.Equal(1.0, r.Score.Sum(), 4);
            Assert.All(r.Score, p => Assert.InRange(p, 0f, 1f));
            Assert.Equal((uint)Array.IndexOf(r.Score, r.Score.Max()) + 1, r.PredictedLabel);   // keys are 1-based
        }
    }

    [Fact]
    public void PredictionEngine_AfterMapKeyToValue_GivesStringLabelAndScores()
    {
        var ml = fixture.Ml;
        var paths = ml.Data.LoadFromEnumerable(fixture.TestRows.Select(r => new PathInput { ImagePath = r.ImagePath }));
        var loader = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(PathInput.ImagePath)).Fit(paths);
        var toText = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(fixture.Model.Transform(loader.Transform(paths)));
        var chain = new TransformerChain<ITransformer>(loader, fixture.Model, toText);
        // OwnsTransformer false: by default disposing the engine disposes the chain, and with it the shared model.
        using var engine = ml.Model.CreatePredictionEngine<PathInput, TextPrediction>(chain, new PredictionEngineOptions { OwnsTransformer = false });

        var expected = ml.Data.CreateEnumerable<KeyPrediction>(fixture.Model.Transform(fixture.Test), reuseRowObject: false).ToArray();
        for (int i = 0; i < fixture.TestRows.Length; i += 20)
        {
            var p = engine.Predict(new PathInput { ImagePath = fixture.TestRows[i].ImagePath });
            Assert.Equal(expected[i].Score, p.Score);
            Assert.Equal(fixture.Model.ClassNames[(int)expected[i].PredictedLabel - 1], p.PredictedLabel);
        }
    }

    [Fact]
    public void GetOutputSchema_SchemaShape_AddsScoreVectorAndPredictedLabelKey()
    {
        var estimator = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(ThreeClassModel.Options(true));

        var shape = estimator.GetOutputSchema(TestData.ShapeOf(fixture.Train.Schema));

        var score = Assert.Single(shape, c => c.Name == "Score");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.True(Assert.Single(shape, c => c.Name == "PredictedLabel").IsKey);
        Assert.Single(shape, c => c.Name == "Image");   // inputs pass through
    }

    [Fact]
    public void GetOutputSchema_RawBytesImageColumn_AddsScoreVectorOfClassCount()
    {
        var estimator = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(ThreeClassModel.Options(true));
        var bytes = TestData.LoadBytes(fixture.Ml, fixture.TrainRows);

        var shape = estimator.GetOutputSchema(TestData.ShapeOf(bytes.Schema));

        var score = Assert.Single(shape, c => c.Name == "Score");
        Assert.Equal(SchemaShape.Column.VectorKind.Vector, score.Kind);
        Assert.Equal(NumberDataViewType.Single, score.ItemType);
        Assert.True(Assert.Single(shape, c => c.Name == "PredictedLabel").IsKey);
    }

    [Fact]
    public void GetOutputSchema_ImageColumnIsText_ThrowsNamingColumnAndAcceptedTypes()
    {
        var estimator = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(
            new FineTuneImageClassifier.Options { ImageColumnName = "ImagePath" });

        var e = Assert.ThrowsAny<ArgumentException>(() => estimator.GetOutputSchema(TestData.ShapeOf(fixture.Train.Schema)));
        Assert.Contains("Image column 'ImagePath' has type String", e.Message);
        Assert.Contains("LoadRawImageBytes", e.Message);
    }

    [Fact]
    public void GetOutputSchema_NoImageColumn_ThrowsNamingColumn()
    {
        var estimator = fixture.Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(
            new FineTuneImageClassifier.Options { ImageColumnName = "Picture" });

        var e = Assert.ThrowsAny<ArgumentException>(() => estimator.GetOutputSchema(TestData.ShapeOf(fixture.Train.Schema)));
        Assert.Contains("'Picture'", e.Message);
    }

    [Fact]
    public void Fit_CustomOutputColumnNames_WritesThoseColumnsOnly()
    {
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 4, "Trouser", "Bag"));
        var options = new FineTuneImageClassifier.Options
        {
            Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 1,
            ScoreColumnName = "Probabilities", PredictedLabelColumnName = "Guess",
        };
        var estimator = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options);
        Assert.Contains(estimator.GetOutputSchema(TestData.ShapeOf(data.Schema)), c => c.Name == "Probabilities");

        using var model = estimator.Fit(data);
        var scored = model.Transform(data);

        Assert.IsType<VectorDataViewType>(scored.Schema["Probabilities"].Type);
        Assert.IsType<KeyDataViewType>(scored.Schema["Guess"].Type);
        Assert.Null(scored.Schema.GetColumnOrNull("Score"));
        Assert.Null(scored.Schema.GetColumnOrNull("PredictedLabel"));
        var metrics = ml.MulticlassClassification.Evaluate(scored, scoreColumnName: "Probabilities", predictedLabelColumnName: "Guess");
        Assert.InRange(metrics.MicroAccuracy, 0, 1);
    }

    private sealed class PathInput
    {
        public string ImagePath { get; set; } = "";
    }

    private sealed class KeyPrediction
    {
        public uint PredictedLabel { get; set; }
        public float[] Score { get; set; } = [];
    }

    private sealed class TextPrediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }
}
