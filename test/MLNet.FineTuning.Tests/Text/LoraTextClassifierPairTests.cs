using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Tests.Pretrained;
using Xunit.Abstractions;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Sentence pairs through <see cref="LoraTextClassifier"/> (<c>SecondTextColumnName</c>) on the committed package-pairs
/// subset (samples/data/package-pairs: a Debian package's name beside its own short description, "match", or another
/// package's of the same section, "other"): only reading both texts tells the classes apart.
/// </summary>
public class LoraTextClassifierPairTests(ITestOutputHelper output)
{
    public sealed class Row
    {
        public string Label { get; set; } = "";
        public string Name { get; set; } = "";
        public string Text { get; set; } = "";
    }

    private static Row[] Rows(string split) => File.ReadLines(Path.Combine(TestData.RepoRoot, "samples", "data", "package-pairs", split + ".tsv"))
        .Skip(1).Select(l => l.Split('\t')).Select(f => new Row { Label = f[0], Name = f[1], Text = f[2] }).ToArray();

    [Fact]
    public void Fit_NameAndDescriptionPairs_MatchesHeldOutPairsAndRoundTripsThePair()
    {
        var ml = new MLContext(1);
        var trainRows = Rows("train");
        var testRows = Rows("test");
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                TextColumnName = nameof(Row.Name), SecondTextColumnName = nameof(Row.Text), MaxSequenceLength = 48, Epochs = 6, Seed = 1,
            }));
        var model = pipeline.Fit(ml.Data.LoadFromEnumerable(trainRows));
        var test = ml.Data.LoadFromEnumerable(testRows);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        output.WriteLine($"held-out accuracy {metrics.MicroAccuracy:F3} on {testRows.Length} pairs");

        // Chance is 0.5 (101 of 200 match). 0.6 is 120 of 200 right: a guesser gets there with probability 0.003.
        // Probes (2026-12-05): 6 epochs, seeds 1 and 2: 0.690, 0.710; 3 epochs (the default), seed 1: 0.590 (45 steps
        // on 240 pairs are too few; the suite's 1,000 pairs: `quality pairs`, README).
        Assert.True(metrics.MicroAccuracy >= 0.6, $"accuracy {metrics.MicroAccuracy:F3}");

        // The pair survives the saved model: model.zip scores alike, and swapping the two texts of a pair changes the
        // score (segment ids reach the graph), so the second column is not silently dropped or merged.
        using var folder = new TempDirectory();
        ml.Model.Save(model, test.Schema, folder.File("model.zip"));
        var service = new MLContext(2).RegisterFineTuningRuntime();
        var loaded = service.Model.Load(folder.File("model.zip"), out _);
        var before = model.Transform(test).GetColumn<float[]>("Score").ToArray();
        var after = loaded.Transform(service.Data.LoadFromEnumerable(testRows)).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < before.Length; i++) Assert.Equal(before[i][0], after[i][0], 5);
        var swapped = loaded.Transform(service.Data.LoadFromEnumerable(testRows.Select(r => new Row { Label = r.Label, Name = r.Text, Text = r.Name })))
            .GetColumn<float[]>("Score").ToArray();
        Assert.Contains(Enumerable.Range(0, before.Length), i => Math.Abs(before[i][0] - swapped[i][0]) > 1e-3);
        (loaded as IDisposable)?.Dispose();

        // model.onnx with the pair tokenized as a service would: [CLS] name [SEP] text [SEP], token types 0 then 1.
        var classifier = model.OfType<LoraTextClassifierTransformer>().Single();
        classifier.SaveOnnx(folder.File("onnx"));
        var batch = BertTextTokenizer.Create(Path.Combine(folder.File("onnx"), "vocab.txt"), lowerCase: true)
            .EncodeBatch(testRows.Take(8).Select(r => r.Name).ToArray(), testRows.Take(8).Select(r => r.Text).ToArray(), 48);
        using var session = new InferenceSession(Path.Combine(folder.File("onnx"), "model.onnx"));
        using var ids = OrtValue.CreateTensorValueFromMemory(batch.InputIds, batch.Shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(batch.AttentionMask, batch.Shape);
        using var types = OrtValue.CreateTensorValueFromMemory(batch.TokenTypeIds, batch.Shape);
        using var run = new RunOptions();
        using var results = session.Run(run, new Dictionary<string, OrtValue> { ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types }, ["probabilities"]);
        var probabilities = results[0].GetTensorDataAsSpan<float>().ToArray();
        for (int i = 0; i < 8; i++) Assert.Equal(before[i][0], probabilities[i * 2], 4);

        // The runtime knows from the file's metadata that the model reads pairs: it scores them as above, and refuses
        // first texts alone, which it would otherwise answer from inputs unlike its training.
        using var exported = ExportedClassifier.Load(folder.File("onnx"));
        Assert.True(exported.ReadsTextPairs);
        var scored = exported.PredictTexts([.. testRows.Take(8).Select(r => r.Name)], [.. testRows.Take(8).Select(r => r.Text)]);
        for (int i = 0; i < 8; i++) Assert.Equal(before[i][0], scored[i].Scores[0], 4);
        Assert.Throws<ArgumentException>(() => exported.PredictTexts([.. testRows.Take(8).Select(r => r.Name)]));
    }
}
