using Microsoft.ML;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using MLNet.FineTuning.Tests.Pretrained;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Pretraining;

/// <summary>Masked-language-model pretraining on a tiny random BERT folder (fast) and, for the round trip, on MiniLM-L6.</summary>
public class DomainAdaptationTests
{
    private sealed class Row
    {
        public string Label { get; set; } = "";
        public string Text { get; set; } = "";
    }

    private static readonly string[] SportWords = ["goal", "match", "team", "cup", "coach", "referee", "striker", "penalty"];
    private static readonly string[] FoodWords = ["sauce", "bread", "garlic", "soup", "pasta", "basil", "cheese", "oven"];

    /// <summary>A tiny random BERT (16 positions) whose vocabulary holds BERT's specials and the topics' words.</summary>
    private static void WriteTinyFolder(string folder)
    {
        using (var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 5))
            BertTestKit.WriteFolder(folder, BertTestKit.Tiny, source.state_dict(), "model.safetensors");
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. SportWords, .. FoodWords];
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"),
            [.. vocabulary, .. Enumerable.Range(0, BertTestKit.Tiny.VocabSize - vocabulary.Length).Select(i => $"filler{i}")]);
    }

    /// <summary>A few fixed sentences, repeated: a corpus whose tokens a model can learn to predict in a few steps.</summary>
    private static string[] RepeatedCorpus() =>
        Enumerable.Repeat(new[] { "goal match team cup goal", "sauce bread garlic soup sauce", "coach referee striker penalty", "pasta basil cheese oven" }, 16)
                  .SelectMany(x => x).ToArray();

    [Fact]
    public void Pretrain_OnARepeatedCorpus_LowersTheLoss_AndTheFolderLoadsIntoLoraTextClassifier()
    {
        using var source = new TempDirectory();
        using var adapted = new TempDirectory();
        WriteTinyFolder(source.Path);
        var ml = new MLContext(1);
        var result = DomainAdaptation.Pretrain(ml, RepeatedCorpus(), adapted.Path, new DomainAdaptation.Options
        {
            Encoder = PretrainedCatalog.BertFolder, EncoderPath = source.Path, MaxSequenceLength = 16, BatchSize = 16, Epochs = 6,
            LearningRate = 5e-3, MaskProbability = 0.3, LogEveryNSteps = 1,
        });
        Assert.False(result.HeadFromCheckpoint);   // the source folder has no cls.* tensors
        Assert.Equal(64, result.Texts);
        Assert.Equal(6, result.Epochs.Count);
        double first = result.Epochs[0].TrainLoss, last = result.Epochs[^1].TrainLoss;
        Assert.True(last < 0.7 * first, $"masked-token loss {first:F3} -> {last:F3} ({string.Join(", ", result.Epochs.Select(e => e.TrainLoss.ToString("F3")))})");
        foreach (var file in new[] { "config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors" })
            Assert.True(File.Exists(Path.Combine(adapted.Path, file)), file);

        // The written head goes back in when the folder is adapted again (a BertForMaskedLM checkpoint).
        using (var again = new TempDirectory())
            Assert.True(DomainAdaptation.Pretrain(ml, RepeatedCorpus(), again.Path, new DomainAdaptation.Options
            {
                Encoder = PretrainedCatalog.BertFolder, EncoderPath = adapted.Path, MaxSequenceLength = 16, Epochs = 0,
            }).HeadFromCheckpoint);

        // The adapted folder as a classifier's encoder. A tiny random BERT trained on 64 repeated texts keeps less of
        // its (random) contrast between texts than it had, so the classifier takes 12 epochs here where the source
        // folder needs 8 (BertFolderFitTests); MLM's effect on a real encoder is measured by the quality suite's dapt verb.
        var random = new Random(3);
        string Sentence(string[] words) => string.Join(" ", Enumerable.Range(0, 5).Select(_ => words[random.Next(words.Length)]));
        var rows = Enumerable.Range(0, 12).SelectMany(_ => new[] { new Row { Label = "sport", Text = Sentence(SportWords) }, new Row { Label = "food", Text = Sentence(FoodWords) } }).ToArray();
        var data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
        {
            Encoder = PretrainedCatalog.BertFolder, EncoderPath = result.Folder, MaxSequenceLength = 16, Epochs = 12, BatchSize = 8,
        })).Fit(data);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(data));
        Assert.True(metrics.MicroAccuracy >= 0.9, $"training accuracy {metrics.MicroAccuracy}");
    }

    [Fact]
    public void Pretrain_WithZeroEpochs_WritesAFolderThatReproducesMiniLm()
    {
        using var folder = new TempDirectory();
        var result = DomainAdaptation.Pretrain(new MLContext(1), ["unused"], folder.Path, new DomainAdaptation.Options { Epochs = 0 });
        Assert.Empty(result.Epochs);

        var original = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained();
        var written = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.BertFolder).CreatePretrained(folder.Path);
        using var a = original.Encoder;
        using var b = written.Encoder;
        Assert.Equal(original.Config, written.Config);
        Assert.True(written.LowerCase);
        using (var expected = original.OpenVocabulary())
        using (var copy = new MemoryStream())
        {
            expected.CopyTo(copy);
            Assert.Equal(copy.ToArray(), File.ReadAllBytes(folder.File("vocab.txt")));
        }
        a.eval();
        b.eval();
        using var scope = NewDisposeScope();
        var (ids, mask, types) = BertTestKit.PaddedBatch([101, 7592, 2088, 102, 2023, 2003, 102], [101, 2460, 102], segmentStart: 4);
        using var _ = no_grad();
        double diff = BertTestKit.MaxAbsDiff(a.forward(ids, mask, types), b.forward(ids, mask, types));
        Assert.True(diff < 1e-5, $"max |difference| {diff}");
    }

    [Fact]
    public void Pretrain_RefusesAMissingOrNonTextColumn_AndTheSourceFolderAsOutput()
    {
        var ml = new MLContext(1);
        var data = ml.Data.LoadFromEnumerable(new[] { new { Label = 1f, Body = "some text" } });
        var missing = Assert.Throws<ArgumentOutOfRangeException>(() => DomainAdaptation.Pretrain(ml, data, "unused", new DomainAdaptation.Options()));
        Assert.Contains("Text column 'Text'", missing.Message);
        Assert.Contains("Body", missing.Message);
        var wrongType = Assert.Throws<ArgumentException>(() => DomainAdaptation.Pretrain(ml, data, "unused", new DomainAdaptation.Options { TextColumnName = "Label" }));
        Assert.Contains("expected text", wrongType.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => DomainAdaptation.Pretrain(ml, ["a"], "unused", new DomainAdaptation.Options { MaskProbability = 1 }));
        using var source = new TempDirectory();
        var same = Assert.Throws<ArgumentException>(() => DomainAdaptation.Pretrain(ml, ["a"], source.Path,
            new DomainAdaptation.Options { Encoder = PretrainedCatalog.BertFolder, EncoderPath = source.Path }));
        Assert.Contains("EncoderPath", same.Message);
    }
}
