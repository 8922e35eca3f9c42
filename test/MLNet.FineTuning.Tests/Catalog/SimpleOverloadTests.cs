using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNet.FineTuning.Tests.Pretrained;
using MLNet.FineTuning.Tests.Text;

namespace MLNet.FineTuning.Tests.Catalog;

/// <summary>The catalog's overloads with plain arguments pass every argument on: the columns they name are the ones read,
/// and epochs, batch size, rate and input size show in the run's history and saved metadata.</summary>
public class SimpleOverloadTests
{
    [Fact]
    public void FineTuneImageClassifier_SimpleOverload_TrainsWithItsArguments()
    {
        var ml = new MLContext(1);
        var rows = TestData.Fashion("train", 5, "Trouser", "Bag");
        var data = ml.Transforms.CopyColumns("Kind", "Label").Append(ml.Transforms.CopyColumns("Picture", "Image"))
            .Append(ml.Transforms.DropColumns("Label", "Image"))
            .Fit(TestData.Load(ml, rows)).Transform(TestData.Load(ml, rows));

        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(
            labelColumnName: "Kind", imageColumnName: "Picture", epochs: 2, batchSize: 4, learningRate: 5e-4, imageSize: 32).Fit(data);

        var last = model.History[^1];
        Assert.Equal(2, last.Epochs);
        Assert.Equal(2 * 3, last.TotalSteps);   // 10 rows in batches of 4: 3 steps per epoch
        // Warm-up and cosine from the peak given: under it, and not at the default 1e-3's level.
        Assert.All(model.History, h => Assert.InRange(h.LearningRate, 0, 5e-4));
        Assert.InRange(model.History[0].LearningRate, 1e-4, 5e-4);
        using var folder = new TempDirectory();
        model.SaveWeights(folder.Path);
        var saved = JsonNode.Parse(File.ReadAllText(folder.File("checkpoint.json")))!;
        Assert.Equal(32, (int)saved["imageSize"]!);
        Assert.NotNull(model.Transform(data).Schema.GetColumnOrNull("PredictedLabel"));
    }

    [Fact]
    public void LoraTextClassifier_SimpleOverload_TrainsWithItsArguments()
    {
        var ml = new MLContext(1);
        var rows = LoraTextClassifierSmokeTests.Sport.Take(5).Select(t => new { Kind = "sport", Words = t })
            .Concat(LoraTextClassifierSmokeTests.Food.Take(5).Select(t => new { Kind = "food", Words = t }))
            .Select(r => new TextRow { Kind = r.Kind, Words = r.Words }).ToArray();
        var data = ml.Transforms.Conversion.MapValueToKey("Kind").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(ml.Data.LoadFromEnumerable(rows));

        using var model = ml.MulticlassClassification.Trainers.LoraTextClassifier(
            labelColumnName: "Kind", textColumnName: "Words", loraRank: 4, epochs: 1, batchSize: 4, learningRate: 5e-3, maxSequenceLength: 16).Fit(data);

        var last = model.History[^1];
        Assert.Equal(1, last.Epochs);
        Assert.Equal(3, last.TotalSteps);   // 10 rows in batches of 4
        Assert.All(model.History, h => Assert.InRange(h.LearningRate, 0, 5e-3));
        using var folder = new TempDirectory();
        model.SaveWeights(folder.Path);
        var saved = JsonNode.Parse(File.ReadAllText(folder.File("checkpoint.json")))!;
        Assert.Equal(4, (int)saved["rank"]!);
        Assert.Equal(16, (int)saved["maxSequenceLength"]!);
        Assert.NotNull(model.Transform(data).Schema.GetColumnOrNull("PredictedLabel"));
    }

    private sealed class TextRow
    {
        public string Kind { get; set; } = "";
        public string Words { get; set; } = "";
    }
}
