using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Tests.Modeling;

public class BertConfigTests
{
    [Fact]
    public void FromJson_HiddenNotDivisibleByHeads_ThrowsNamingBothFields()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            BertConfig.FromJson("""{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}""", "my/config.json"));

        Assert.Contains("my/config.json", e.Message);
        Assert.Contains("hidden_size (30)", e.Message);
        Assert.Contains("num_attention_heads (4)", e.Message);
    }

    [Fact]
    public void FromJson_UnsupportedActivationAndNegativeEps_ThrowsNamingEach()
    {
        var e = Assert.Throws<InvalidDataException>(() =>
            BertConfig.FromJson("""{"hidden_act": "swish", "layer_norm_eps": -1}"""));

        Assert.Contains("hidden_act 'swish'", e.Message);
        Assert.Contains("gelu_pytorch_tanh", e.Message);
        Assert.Contains("layer_norm_eps", e.Message);
    }

    [Theory]
    [InlineData("""{"model_type": "distilbert"}""", "model_type 'distilbert'")]
    [InlineData("""{"position_embedding_type": "relative_key"}""", "position_embedding_type 'relative_key'")]
    [InlineData("""{"hidden_size": "big"}""", "hidden_size must be an integer")]
    [InlineData("""{"num_hidden_layers": 2.5}""", "num_hidden_layers must be an integer")]
    [InlineData("""{"vocab_size": 0}""", "vocab_size must be at least 1")]
    public void FromJson_UnusableField_ThrowsNamingIt(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => BertConfig.FromJson(json));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void FromJson_FieldsAbsent_UsesBertBaseDefaults()
    {
        var config = BertConfig.FromJson("{}");

        Assert.Equal(new BertConfig(), config);
        Assert.Equal((768, 12, 12, 3072, "gelu"),
            (config.HiddenSize, config.NumHiddenLayers, config.NumAttentionHeads, config.IntermediateSize, config.HiddenAct));
    }

    [Fact]
    public void ToJson_ThenFromJson_SameConfig()
    {
        var config = BertConfig.MiniLmL6 with { HiddenAct = "gelu_new", HiddenDropoutProb = 0.2, PadTokenId = 1 };

        Assert.Equal(config, BertConfig.FromJson(config.ToJson()));
    }

    [Fact]
    public void Validate_HeadsZero_ThrowsArgumentNamingField()
    {
        var e = Assert.Throws<ArgumentException>(() => (BertTestKit.Tiny with { NumAttentionHeads = 0 }).Validate());

        Assert.Contains("num_attention_heads must be at least 1", e.Message);
    }
}
