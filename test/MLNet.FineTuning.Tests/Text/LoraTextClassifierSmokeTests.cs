using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Runtime;

namespace MLNet.FineTuning.Tests.Text;

public class LoraTextClassifierSmokeTests
{
    internal sealed class Row
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }

    private sealed class HostPrediction
    {
        public string Text { get; set; } = "";
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    internal static readonly string[] Sport = ["the team won the match in extra time", "a late goal gave them the cup", "the striker scored twice", "the coach praised the defence after the game", "fans cheered as the keeper saved a penalty", "the referee showed a red card", "they lost the final on penalties", "the runner broke the record in the race"];
    internal static readonly string[] Food = ["simmer the sauce with garlic and onions", "bake the bread for forty minutes", "whisk the eggs with sugar and butter", "season the soup with salt and pepper", "roast the vegetables in olive oil", "the recipe needs fresh basil and tomatoes", "fry the fish until golden", "serve the pasta with grated cheese"];

    [Fact]
    public void Fit_TwoTopics_LearnsAndRoundTripsThroughModelZipInAndOutOfProcess()
    {
        var ml = new MLContext(seed: 1);
        var rows = Sport.Select(t => new Row { Label = "sport", Text = t }).Concat(Food.Select(t => new Row { Label = "food", Text = t })).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                Epochs = 4, BatchSize = 8, MaxSequenceLength = 32, LearningRate = 3e-3, LogEveryNSteps = 1,
            }));
        var model = pipeline.Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"training accuracy {metrics.MicroAccuracy}");

        string dir = Path.Combine(Path.GetTempPath(), "lora-smoke-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            ml.Model.Save(model, data.Schema, Path.Combine(dir, "model.zip"));
            var fresh = new MLContext(seed: 2).RegisterFineTuningRuntime();
            var loaded = fresh.Model.Load(Path.Combine(dir, "model.zip"), out _);
            var before = model.Transform(data).GetColumn<float[]>("Score").ToArray();
            var after = loaded.Transform(fresh.Data.LoadFromEnumerable(rows)).GetColumn<float[]>("Score").ToArray();
            for (int i = 0; i < before.Length; i++)
                for (int k = 0; k < before[i].Length; k++) Assert.Equal(before[i][k], after[i][k], 5);

            // The same zip in a process that has no TorchSharp and no MLNet.FineTuning (test/MLNet.FineTuning.ScoringHost).
            var classifier = model.OfType<LoraTextClassifierTransformer>().Single();
            var hosted = System.Text.Json.JsonSerializer.Deserialize<HostPrediction[]>(
                ScoringHost.Run(["--text", Path.Combine(dir, "model.zip"), .. rows.Select(r => r.Text)]))!;
            Assert.Equal(rows.Select(r => r.Text), hosted.Select(h => h.Text));
            for (int i = 0; i < before.Length; i++)
            {
                Assert.Equal(classifier.ClassNames[Array.IndexOf(before[i], before[i].Max())], hosted[i].PredictedLabel);
                for (int k = 0; k < before[i].Length; k++) Assert.Equal(before[i][k], hosted[i].Score[k], 1e-5f);
            }

            classifier.SaveOnnx(Path.Combine(dir, "onnx"));
            classifier.SaveAdapter(Path.Combine(dir, "adapter"));
            // The optional int8 export: same files, a different model.onnx that still ranks the classes alike.
            classifier.SaveOnnx(Path.Combine(dir, "onnx-int8"), OnnxPrecision.Int8);
            Assert.True(File.Exists(Path.Combine(dir, "onnx-int8", "vocab.txt")));
            var int8Batch = BertTextTokenizer.Create(Path.Combine(dir, "onnx-int8", "vocab.txt"), lowerCase: true)
                .EncodeBatch(rows.Select(r => r.Text).ToArray(), null, 32);
            using (var session = new Microsoft.ML.OnnxRuntime.InferenceSession(Path.Combine(dir, "onnx-int8", "model.onnx")))
            {
                using var ids = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(int8Batch.InputIds, int8Batch.Shape);
                using var mask = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(int8Batch.AttentionMask, int8Batch.Shape);
                using var types = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(int8Batch.TokenTypeIds, int8Batch.Shape);
                using var runOptions = new Microsoft.ML.OnnxRuntime.RunOptions();
                using var results = session.Run(runOptions, new Dictionary<string, Microsoft.ML.OnnxRuntime.OrtValue>
                {
                    ["input_ids"] = ids, ["attention_mask"] = mask, ["token_type_ids"] = types,
                }, ["predicted_label"]);
                Assert.Equal(before.Select(p => classifier.ClassNames[Array.IndexOf(p, p.Max())]), results[0].GetStringTensorAsArray());
            }
            Assert.True(File.Exists(Path.Combine(dir, "onnx", "model.onnx")));
            Assert.True(File.Exists(Path.Combine(dir, "onnx", "vocab.txt")));
            Assert.True(File.Exists(Path.Combine(dir, "adapter", "adapter_config.json")));
            Assert.True(File.Exists(Path.Combine(dir, "adapter", "adapter_model.safetensors")));
            Assert.True(classifier.AdapterParameterCount > 0);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Fit_BFloat16MixedPrecision_LearnsAndExportsFp32()
    {
        // What a CUDA run does by default, here on the CPU: bf16 compute with fp32 masters; the adapter, the
        // merged ONNX model and the scores must come out fp32 and still separate the topics.
        var ml = new MLContext(seed: 1);
        var rows = Sport.Select(t => new Row { Label = "sport", Text = t }).Concat(Food.Select(t => new Row { Label = "food", Text = t })).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                Epochs = 4, BatchSize = 8, MaxSequenceLength = 32, LearningRate = 3e-3,
                Precision = MLNet.FineTuning.Training.TrainingPrecision.BFloat16,
            })).Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"training accuracy {metrics.MicroAccuracy}");
        string dir = Path.Combine(Path.GetTempPath(), "lora-bf16-" + Guid.NewGuid().ToString("N"));
        try
        {
            model.OfType<LoraTextClassifierTransformer>().Single().SaveAdapter(dir);
            var saved = TorchSharp.PyBridge.Safetensors.LoadStateDict(Path.Combine(dir, "adapter_model.safetensors"));
            Assert.All(saved.Values, t => Assert.Equal(TorchSharp.torch.ScalarType.Float32, t.dtype));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
