using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Pretrained;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Bad inputs of <see cref="LoraTextClassifier"/>: each error names the column or option and what was expected;
/// awkward rows (null, empty, very long text; a label unseen in training) train and score.</summary>
public class LoraTextClassifierInputTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string? Text { get; set; } = "";
    }

    private sealed class FloatTextRow
    {
        public string Label { get; set; } = "";
        public float Text { get; set; }
    }

    private static readonly string[] Sport = ["the team won the match in extra time", "a late goal gave them the cup", "the striker scored twice", "the coach praised the defence after the game", "fans cheered as the keeper saved a penalty", "the referee showed a red card", "they lost the final on penalties", "the runner broke the record in the race"];
    private static readonly string[] Food = ["simmer the sauce with garlic and onions", "bake the bread for forty minutes", "whisk the eggs with sugar and butter", "season the soup with salt and pepper", "roast the vegetables in olive oil", "the recipe needs fresh basil and tomatoes", "fry the fish until golden", "serve the pasta with grated cheese"];

    private static Row[] TinyRows() =>
        Sport.Select(t => new Row { Label = "sport", Text = t }).Concat(Food.Select(t => new Row { Label = "food", Text = t })).ToArray();

    private static LoraTextClassifier.Options FastOptions() => new() { Epochs = 1, BatchSize = 8, MaxSequenceLength = 16 };

    private static LoraTextClassifier Trainer(MLContext ml, LoraTextClassifier.Options? options = null) =>
        ml.MulticlassClassification.Trainers.LoraTextClassifier(options ?? FastOptions());

    /// <summary>The label mapped to a key, fitted on <paramref name="rows"/>.</summary>
    private static IDataView Keyed(MLContext ml, IEnumerable<Row> rows)
    {
        var view = ml.Data.LoadFromEnumerable(rows);
        return ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
    }

    [Fact]
    public void Fit_TextColumnMissing_NamesColumnAndListsColumns()
    {
        var ml = new MLContext(seed: 1);
        var options = FastOptions();
        options.TextColumnName = "Body";
        var ex = Assert.ThrowsAny<ArgumentException>(() => Trainer(ml, options).Fit(Keyed(ml, TinyRows())));
        Assert.Contains("Text column 'Body' not found", ex.Message);
        Assert.Contains("Label", ex.Message);
        Assert.Contains("Text", ex.Message);
    }

    [Fact]
    public void Fit_TextColumnIsFloat_NamesColumnAndExpectedTextType()
    {
        var ml = new MLContext(seed: 1);
        var view = ml.Data.LoadFromEnumerable(new[] { new FloatTextRow { Label = "a", Text = 1 }, new FloatTextRow { Label = "b", Text = 2 } });
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(view).Transform(view);
        var ex = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(keyed));
        Assert.Contains("Text column 'Text'", ex.Message);
        Assert.Contains("Single", ex.Message);
        Assert.Contains("expected text", ex.Message);
    }

    [Fact]
    public void Fit_ValidationSetWithAClassTrainingHasNot_IsRefusedBeforeTraining_NamingIt()
    {
        var ml = new MLContext(seed: 1);
        var options = FastOptions();
        options.ValidationSet = Keyed(ml, [new Row { Label = "sport", Text = "a goal" }, new Row { Label = "weather", Text = "rain again" }]);

        var ex = Assert.Throws<ArgumentException>(() => Trainer(ml, options).Fit(Keyed(ml, TinyRows())));

        Assert.StartsWith("The validation data (ValidationSet): label column 'Label' has the class 'weather'", ex.Message);
        Assert.Contains("2 classes: 'sport', 'food'", ex.Message);
    }

    [Fact]
    public void Fit_ValidationSetWithoutTheTextColumn_IsRefusedNamingTheValidationData()
    {
        var ml = new MLContext(seed: 1);
        var options = FastOptions();
        var valid = Keyed(ml, TinyRows());
        options.ValidationSet = ml.Transforms.CopyColumns("Body", "Text").Append(ml.Transforms.DropColumns("Text")).Fit(valid).Transform(valid);

        var ex = Assert.ThrowsAny<ArgumentException>(() => Trainer(ml, options).Fit(Keyed(ml, TinyRows())));

        Assert.StartsWith("The validation data (ValidationSet): Text column 'Text' not found", ex.Message);
        Assert.Contains("Body", ex.Message);
    }

    [Fact]
    public void Fit_LabelNotKey_NamesLabelAndSuggestsMapValueToKey()
    {
        var ml = new MLContext(seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(ml.Data.LoadFromEnumerable(TinyRows())));
        Assert.Contains("Label column 'Label'", ex.Message);
        Assert.Contains("expected a key type", ex.Message);
        Assert.Contains("MapValueToKey", ex.Message);
    }

    [Fact]
    public void Fit_SingleClass_NamesLabelAndNeedsTwoClasses()
    {
        var ml = new MLContext(seed: 1);
        var rows = Sport.Select(t => new Row { Label = "sport", Text = t });
        var ex = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(Keyed(ml, rows)));
        Assert.Contains("Label column 'Label' has 1 class", ex.Message);
        Assert.Contains("at least 2", ex.Message);
    }

    [Fact]
    public void Fit_ZeroRowsWithTwoClassKey_SaysTrainingDataHasNoRows()
    {
        var ml = new MLContext(seed: 1);
        var keyMap = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(TinyRows()));
        var empty = keyMap.Transform(ml.Data.LoadFromEnumerable(Array.Empty<Row>()));
        var ex = Assert.Throws<ArgumentException>(() => Trainer(ml).Fit(empty));
        Assert.Contains("training data has no rows", ex.Message);
    }

    [Fact]
    public void Fit_NullAndEmptyText_TrainsAndScoresEveryRow()
    {
        var ml = new MLContext(seed: 1);
        var rows = TinyRows();
        rows[0].Text = null;
        rows[1].Text = "";
        rows[8].Text = null;
        rows[9].Text = "";
        var data = Keyed(ml, rows);
        var model = Trainer(ml).Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(rows.Length, scores.Length);
        Assert.All(scores, s =>
        {
            Assert.Equal(2, s.Length);
            Assert.All(s, p => Assert.True(float.IsFinite(p)));
            Assert.Equal(1f, s.Sum(), 3);
        });
        Assert.Equal(scores[0], scores[1]);
    }

    [Fact]
    public void Fit_TwoRowsOneOfEachClass_TrainsAndScoresBoth()
    {
        var ml = new MLContext(seed: 1);
        var data = Keyed(ml, [new Row { Label = "sport", Text = Sport[0] }, new Row { Label = "food", Text = Food[0] }]);
        var progress = new Training.ProgressLog();
        var options = FastOptions();
        options.Epochs = 2;
        options.Progress = progress;

        var model = Trainer(ml, options).Fit(data);

        Assert.Equal([1L, 2L], progress.Reports.Where(r => r.IsEpochEnd).Select(r => r.Step));
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(2, scores.Length);
        Assert.All(scores, s => Assert.Equal(1f, s.Sum(), 3));
    }

    [Fact]
    public void Fit_TextOf50000Characters_TrainsAndScores()
    {
        var ml = new MLContext(seed: 1);
        var rows = TinyRows();
        string longText = string.Join(" ", Enumerable.Repeat("the striker scored", 50_000 / 19 + 1))[..50_000];
        rows[2].Text = longText;
        var data = Keyed(ml, rows);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        ml.Log += (_, e) => log.Enqueue(e.RawMessage);
        var model = Trainer(ml).Fit(data);
        var scores = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        Assert.Equal(rows.Length, scores.Length);
        // Said before training: the one long text fills the window (the others take at most 10 of its 16 tokens).
        Assert.Contains(log, m => m.Contains("1 of 16 texts (6 %) fill all 16 tokens and are cut there"));
        Assert.All(scores[2], p => Assert.True(float.IsFinite(p)));
        // Truncated at MaxSequenceLength: text agreeing on the first 14 word pieces scores the same.
        var prefix = ml.Data.LoadFromEnumerable(new[] { new Row { Label = "sport", Text = string.Join(" ", Enumerable.Repeat("the striker scored", 10)) } });
        var prefixScore = model.Transform(ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(rows)).Transform(prefix))
            .GetColumn<float[]>("Score").Single();
        for (int k = 0; k < 2; k++) Assert.Equal(scores[2][k], prefixScore[k], 4);
    }

    [Fact]
    public void Transform_LabelUnseenInTraining_PredictsTrainingClassAndEvaluateSkipsRow()
    {
        var ml = new MLContext(seed: 1);
        var keyMap = ml.Transforms.Conversion.MapValueToKey("Label").Fit(ml.Data.LoadFromEnumerable(TinyRows()));
        var model = Trainer(ml).Fit(keyMap.Transform(ml.Data.LoadFromEnumerable(TinyRows())));
        var test = keyMap.Transform(ml.Data.LoadFromEnumerable(new[]
        {
            new Row { Label = "weather", Text = "rain and wind all day" },
            new Row { Label = "sport", Text = "the team won the match" },
            new Row { Label = "food", Text = "bake the bread" },
        }));
        var scored = model.Transform(test);
        var labels = scored.GetColumn<uint>("Label").ToArray();
        var predicted = scored.GetColumn<uint>("PredictedLabel").ToArray();
        Assert.Equal(0u, labels[0]); // MapValueToKey maps a value it was not fitted on to key 0 (missing).
        Assert.All(predicted, p => Assert.InRange(p, 1u, 2u));
        // ML.NET's evaluator skips rows whose label is missing: the two known rows are counted, without a crash.
        var metrics = ml.MulticlassClassification.Evaluate(scored);
        Assert.Equal(2, metrics.ConfusionMatrix.Counts.Sum(r => r.Sum()), 6);
    }

    [Fact]
    public void Options_BertFolderWithoutEncoderPath_ThrowsNamingEncoderPath()
    {
        var options = FastOptions();
        options.Encoder = PretrainedCatalog.BertFolder;
        var ex = Assert.Throws<ArgumentException>(() => Trainer(new MLContext(1), options));
        Assert.Equal(nameof(LoraTextClassifier.Options.EncoderPath), ex.ParamName);
        Assert.Contains("needs EncoderPath", ex.Message);
        Assert.Contains("vocab.txt", ex.Message);
    }

    [Theory]
    [InlineData(false, true, "vocab.txt")]
    [InlineData(true, false, "config.json")]
    public void Fit_EncoderFolderLacksFile_ListsMissingFiles(bool withVocab, bool withConfig, string missing)
    {
        string dir = Path.Combine(Path.GetTempPath(), "lora-badfolder-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            if (withVocab) File.WriteAllText(Path.Combine(dir, "vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n");
            if (withConfig) File.WriteAllText(Path.Combine(dir, "config.json"), "{}");
            var ml = new MLContext(seed: 1);
            var options = FastOptions();
            options.Encoder = PretrainedCatalog.BertFolder;
            options.EncoderPath = dir;
            var ex = Assert.Throws<InvalidDataException>(() => Trainer(ml, options).Fit(Keyed(ml, TinyRows())));
            Assert.Contains(dir, ex.Message);
            Assert.Contains(missing, ex.Message);
            Assert.Contains("model.safetensors or pytorch_model.bin", ex.Message);
            Assert.DoesNotContain(withVocab ? "vocab.txt" : "config.json", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static readonly Dictionary<string, Action<LoraTextClassifier.Options>> BadOptions = new()
    {
        ["MaxSequenceLength=4"] = o => o.MaxSequenceLength = 4,
        ["Rank=0"] = o => o.Rank = 0,
        ["Alpha=0"] = o => o.Alpha = 0,
        ["Dropout=1"] = o => o.Dropout = 1.0,
        ["HeadDropout=-0.1"] = o => o.HeadDropout = -0.1,
        ["Encoder=gpt-9"] = o => o.Encoder = "gpt-9",
        ["MaxSequenceLength=1000"] = o => o.MaxSequenceLength = 1000,
    };

    [Theory]
    [InlineData("MaxSequenceLength=4", "MaxSequenceLength", "≥ 8")]
    [InlineData("Rank=0", "Rank", "at least 1")]
    [InlineData("Alpha=0", "Alpha", "greater than 0")]
    [InlineData("Dropout=1", "Dropout", "[0, 1)")]
    [InlineData("HeadDropout=-0.1", "HeadDropout", "[0, 1)")]
    [InlineData("Encoder=gpt-9", "Encoder", PretrainedCatalog.MiniLmL6)]
    [InlineData("MaxSequenceLength=1000", "max_position_embeddings", "512")]
    public void Options_OutOfRange_ThrowsNamingOptionAndExpectation(string setting, string option, string expected)
    {
        var options = FastOptions();
        BadOptions[setting](options);
        var ex = Assert.ThrowsAny<ArgumentException>(() => Trainer(new MLContext(1), options));
        Assert.Contains(option, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void SaveAdapter_FullFineTuneModel_ThrowsInvalidOperation()
    {
        var ml = new MLContext(seed: 1);
        var options = FastOptions();
        options.FullFineTune = true;
        options.BackboneLearningRateFactor = 0.05;
        var model = Trainer(ml, options).Fit(Keyed(ml, TinyRows()));
        string dir = Path.Combine(Path.GetTempPath(), "lora-fullft-" + Guid.NewGuid().ToString("N"));
        var ex = Assert.Throws<InvalidOperationException>(() => model.SaveAdapter(dir));
        Assert.Contains("no LoRA adapter", ex.Message);
        Assert.Equal(0, model.AdapterParameterCount);
        Assert.False(Directory.Exists(dir));
    }
}
