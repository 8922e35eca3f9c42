using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>Local Hugging Face BERT folders, written with PyBridge from a tiny random encoder and read back.</summary>
public class BertCheckpointTests
{
    [Fact]
    public void Load_SafetensorsWithoutPrefix_SameOutputsAndTokenizerCasing()
    {
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 11);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, source.state_dict(), "model.safetensors",
            """{"do_lower_case": false, "model_max_length": 16}""");

        var checkpoint = BertCheckpoint.Load(dir.Path);
        using var loaded = checkpoint.Encoder;

        AssertSameOutputs(source, loaded);
        Assert.Equal(BertTestKit.Tiny, checkpoint.Config);
        Assert.False(checkpoint.LowerCase);
        Assert.Equal(dir.File("vocab.txt"), checkpoint.VocabularyPath);
        using var vocabulary = new StreamReader(checkpoint.OpenVocabulary());
        Assert.Equal("[PAD]", vocabulary.ReadLine());
    }

    [Fact]
    public void Load_PickleWithBertPrefixAndPretrainingHeads_SameOutputsHeadsIgnored()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny, addPoolingLayer: true), seed: 12);
        // What BertForPreTraining saves: bert.* keys, the pooler, the MLM/NSP heads, and (older versions) position_ids.
        var weights = source.state_dict().ToDictionary(kv => "bert." + kv.Key, kv => kv.Value);
        weights["cls.predictions.bias"] = zeros(100);
        weights["cls.seq_relationship.weight"] = zeros(2, 32);
        weights["bert.embeddings.position_ids"] = arange(16).unsqueeze(0);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, weights, "pytorch_model.bin");

        var withoutPooler = BertCheckpoint.Load(dir.Path);
        var withPooler = BertCheckpoint.Load(dir.Path, addPoolingLayer: true);
        using var a = withoutPooler.Encoder;
        using var b = withPooler.Encoder;

        AssertSameOutputs(source, a);
        AssertSameOutputs(source, b);
        Assert.True(withoutPooler.LowerCase, "do_lower_case defaults to true without tokenizer_config.json");
        Assert.False(a.HasPooler);
        Assert.True(source.state_dict()["pooler.dense.weight"].eq(b.state_dict()["pooler.dense.weight"]).all().item<bool>());
    }

    [Fact]
    public void Load_MissingAndUnexpectedKeys_ThrowsListingAll()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 13);
        var weights = source.state_dict();
        weights.Remove("encoder.layer.1.attention.self.value.weight");
        weights.Remove("embeddings.LayerNorm.bias");
        weights["encoder.layer.2.attention.self.query.weight"] = zeros(32, 32);
        weights["classifier.weight"] = zeros(3, 32);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, weights, "model.safetensors");

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains(dir.File("model.safetensors"), e.Message);
        Assert.Contains("missing (2): embeddings.LayerNorm.bias, encoder.layer.1.attention.self.value.weight", e.Message);
        Assert.Contains("unexpected (2): encoder.layer.2.attention.self.query.weight, classifier.weight", e.Message);
    }

    [Fact]
    public void Load_PoolerRequestedButAbsent_ThrowsListingPoolerKeys()
    {
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 14);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, source.state_dict(), "model.safetensors");

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path, addPoolingLayer: true));

        Assert.Contains("missing (2): pooler.dense.weight, pooler.dense.bias", e.Message);
    }

    [Fact]
    public void Load_ConfigSaysHidden64TensorsHave32_ThrowsNamingKeysAndBothShapes()
    {
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 15);
        var config64 = BertTestKit.Tiny with { HiddenSize = 64 };
        BertTestKit.WriteFolder(dir.Path, config64, source.state_dict(), "pytorch_model.bin");

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains("hidden 64", e.Message);
        Assert.Contains("embeddings.word_embeddings.weight (file [100,32], network [100,64])", e.Message);
        Assert.Contains("encoder.layer.0.attention.self.query.weight (file [32,32], network [64,64])", e.Message);
        Assert.Contains("encoder.layer.1.intermediate.dense.weight (file [64,32], network [64,64])", e.Message);
    }

    [Fact]
    public void Load_HiddenNotDivisibleByHeads_ThrowsNamingFields()
    {
        using var dir = new TempDirectory();
        using var source = new BertEncoder(BertTestKit.Tiny);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny with { NumAttentionHeads = 5 }, source.state_dict(), "model.safetensors");

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains(dir.File("config.json"), e.Message);
        Assert.Contains("hidden_size (32) must be a multiple of num_attention_heads (5)", e.Message);
    }

    [Fact]
    public void Load_EmptyFolder_ThrowsListingEveryMissingFile()
    {
        using var dir = new TempDirectory();

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains("config.json, model.safetensors or pytorch_model.bin, vocab.txt", e.Message);
    }

    [Fact]
    public void GetTextEncoder_BertFolder_LoadsTheFolder()
    {
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 16);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, source.state_dict(), "model.safetensors");

        using var loaded = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.BertFolder).CreatePretrained(dir.Path).Encoder;

        AssertSameOutputs(source, loaded);
    }

    private static void AssertSameOutputs(BertEncoder expected, BertEncoder actual)
    {
        using var scope = NewDisposeScope();
        var (ids, mask, types) = BertTestKit.PaddedBatch([2, 11, 57, 3, 8, 3], [2, 99, 3], segmentStart: 4);
        expected.eval();
        actual.eval();
        using var _ = no_grad();
        Assert.True(expected.forward(ids, mask, types).eq(actual.forward(ids, mask, types)).all().item<bool>(), "outputs must be identical");
    }
}
