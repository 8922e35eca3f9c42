using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Tests.Pretrained;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.MultiLabel;

/// <summary>
/// The multi-label image classifier on real Fashion-MNIST images, each with the attributes of what it shows, zero to two
/// at once: a pullover is worn on the upper body; trousers on the lower body and they cover the ankle; a sandal is
/// footwear; an ankle boot is footwear and covers the ankle. Trained on training-split images, scored on test-split ones.
/// </summary>
public class FineTuneImageMultiLabelClassifierTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> Attributes = new()
    {
        ["Pullover"] = "upper-body", ["Trouser"] = "lower-body;covers-ankle", ["Sandal"] = "footwear", ["Ankle boot"] = "footwear;covers-ankle",
    };

    public sealed class Row
    {
        public string ImagePath { get; set; } = "";
        public string Tags { get; set; } = "";
    }

    private static Row[] Rows(string split, int perClass) => TestData.Fashion(split, perClass, [.. Attributes.Keys])
        .Select(r => new Row { ImagePath = r.ImagePath, Tags = Attributes[r.Label] }).ToArray();

    private static IDataView Load(MLContext ml, ITransformer tags, IEnumerable<Row> rows)
    {
        var view = tags.Transform(ml.Data.LoadFromEnumerable(rows));
        return ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(Row.ImagePath)).Fit(view).Transform(view);
    }

    private static FineTuneImageMultiLabelClassifier.Options Options() => new() { ImageSize = 32, Epochs = 4, BatchSize = 12, Seed = 1 };

    [Fact]
    public void Fit_ClothingAttributes_BeatsEveryConstantAnswerOnHeldOutImages()
    {
        var ml = new MLContext(1);
        var trainRows = Rows("train", 12);
        var tags = LabelSets.TagsToLabel(ml, ml.Data.LoadFromEnumerable(trainRows), nameof(Row.Tags));
        var train = Load(ml, tags, trainRows);
        var test = Load(ml, tags, Rows("test", 15));
        using var model = ml.MultiLabelClassification().Trainers.FineTuneImageClassifier(Options()).Fit(train);

        var metrics = ml.MultiLabelClassification().Evaluate(model.Transform(test));
        double constant = LabelSets.BestConstantMicroF1(LabelSets.Flags(test));
        output.WriteLine($"{LabelSets.Describe(metrics)}; best constant micro F1 {constant:F3}; labels {string.Join(", ", model.ClassNames)}");

        // The bag's slots, in the order the tags first appear in the training rows, name the labels.
        Assert.Equal(["covers-ankle", "footwear", "lower-body", "upper-body"], model.ClassNames.Order());
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f], model.Thresholds);   // no validation rows: the fixed threshold
        Assert.True(metrics.MicroF1 > constant + 0.2, $"micro F1 {metrics.MicroF1:F3} vs constant {constant:F3}");
        Assert.True(metrics.SubsetAccuracy > 0.5, $"exact-match {metrics.SubsetAccuracy:F3}");
    }

    [Fact]
    public void Transform_ModelZipAndOnnx_GiveTheSameProbabilitiesAndFlags()
    {
        var ml = new MLContext(1);
        var rows = Rows("train", 3);
        var tags = LabelSets.TagsToLabel(ml, ml.Data.LoadFromEnumerable(rows), nameof(Row.Tags));
        var data = Load(ml, tags, rows);
        var options = Options();
        options.Epochs = 1;
        using var model = ml.MultiLabelClassification().Trainers.FineTuneImageClassifier(options).Fit(data);
        var scored = model.Transform(data);
        var scores = scored.GetColumn<float[]>("Score").ToArray();
        var flags = scored.GetColumn<bool[]>("PredictedLabel").ToArray();

        using var session = new InferenceSession(model.OnnxModel.ToArray());
        var pixels = new ImagePixels(model.ImageSize);
        var batch = rows.SelectMany(r => pixels.FromEncoded(File.ReadAllBytes(r.ImagePath))).ToArray();
        using var value = OrtValue.CreateTensorValueFromMemory(batch, [rows.Length, 3, model.ImageSize, model.ImageSize]);
        using var run = new RunOptions();
        using var results = session.Run(run, new Dictionary<string, OrtValue> { ["pixels"] = value }, ["probabilities", "predicted_labels"]);
        var probabilities = results[0].GetTensorDataAsSpan<float>().ToArray();
        var predicted = results[1].GetTensorDataAsSpan<bool>().ToArray();
        int k = model.ClassNames.Count;
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < k; j++)
            {
                Assert.Equal(scores[i][j], probabilities[i * k + j], 4);
                Assert.Equal(flags[i][j], predicted[i * k + j]);
            }
        Assert.Equal("image_multilabel", session.ModelMetadata.CustomMetadataMap["mlnet_finetuning.task"]);

        using var folder = new TempDirectory();
        ml.Model.Save(model, data.Schema, folder.File("model.zip"));
        var service = new MLContext(2).RegisterFineTuningRuntime();
        var loaded = service.Model.Load(folder.File("model.zip"), out _);
        var reloaded = loaded.Transform(data);
        Assert.Equal(scores, reloaded.GetColumn<float[]>("Score").ToArray());
        Assert.Equal(flags, reloaded.GetColumn<bool[]>("PredictedLabel").ToArray());
        (loaded as IDisposable)?.Dispose();
    }
}
