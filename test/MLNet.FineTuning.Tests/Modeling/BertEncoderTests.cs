using MLNet.FineTuning.Modeling;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Tests.Modeling;

public class BertEncoderTests
{
    [Fact]
    public void NamedParameters_WithPooler_EqualHuggingFaceBertModelKeysInOrder()
    {
        using var model = new BertEncoder(BertTestKit.Tiny with { NumHiddenLayers = 1 }, addPoolingLayer: true);

        string[] expected =
        [
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
            .. new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                       "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm" }
                .SelectMany(m => new[] { $"encoder.layer.0.{m}.weight", $"encoder.layer.0.{m}.bias" }),
            "pooler.dense.weight", "pooler.dense.bias",
        ];
        Assert.Equal(expected, model.named_parameters().Select(p => p.name));
        Assert.Equal(expected, model.state_dict().Keys);
    }

    [Fact]
    public void NamedLinears_TwoLayersNoPooler_ListsSixProjectionsPerLayer()
    {
        using var model = new BertEncoder(BertTestKit.Tiny);

        var names = model.NamedLinears().Select(l => l.Name).ToArray();

        Assert.Equal(12, names.Length);
        Assert.Equal("encoder.layer.0.attention.self.query", names[0]);
        Assert.Equal("encoder.layer.1.output.dense", names[^1]);
        Assert.Equal(32, model.NamedLinears().First().Linear.in_features);
        Assert.False(model.HasPooler);
    }

    [Fact]
    public void Forward_PaddingAppended_TokenPositionsUnchanged()
    {
        using var scope = NewDisposeScope();
        using var model = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 1);
        model.eval();
        long[] ids = [2, 17, 45, 9, 3];
        var alone = tensor(ids, [1, 5]);
        var (padded, mask, types) = BertTestKit.PaddedBatch([2, 17, 45, 9, 3, 4, 4, 5, 3], ids, segmentStart: 99);

        using var _ = no_grad();
        var single = model.forward(alone, ones_like(alone), zeros_like(alone));
        var batch = model.forward(padded, mask, types);

        Assert.Equal(new long[] { 2, 9, 32 }, batch.shape);
        Assert.True(BertTestKit.MaxAbsDiff(single[0], batch[1, ..5]) < 1e-5, "padding must get no attention");
    }

    [Fact]
    public void Forward_Training_AppliesConfiguredDropoutOnly()
    {
        using var scope = NewDisposeScope();
        using var noDropout = BertTestKit.Randomised(
            new BertEncoder(BertTestKit.Tiny with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 }), seed: 2);
        using var withDropout = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 2);
        var (ids, mask, types) = BertTestKit.PaddedBatch([2, 5, 6, 3], [2, 7, 3], segmentStart: 2);

        using var _ = no_grad();
        noDropout.eval();
        var reference = noDropout.forward(ids, mask, types);
        noDropout.train();
        withDropout.train();

        Assert.Equal(0, BertTestKit.MaxAbsDiff(reference, noDropout.forward(ids, mask, types)));
        Assert.True(BertTestKit.MaxAbsDiff(reference, withDropout.forward(ids, mask, types)) > 1e-3);
        withDropout.eval();
        Assert.Equal(0, BertTestKit.MaxAbsDiff(reference, withDropout.forward(ids, mask, types)));
    }

    [Fact]
    public void ReplaceModule_Query_ForwardUsesReplacementAndKeysKeepTheirOrder()
    {
        using var scope = NewDisposeScope();
        using var model = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 3);
        model.eval();
        var (ids, mask, types) = BertTestKit.PaddedBatch([2, 5, 6, 3], [2, 7, 3], segmentStart: 2);
        using var _ = no_grad();
        var before = model.forward(ids, mask, types);
        var keysBefore = model.named_parameters().Select(p => p.name).ToList();
        const string name = "encoder.layer.1.attention.self.query";
        var original = model.NamedLinears().Single(l => l.Name == name).Linear;

        var returned = model.ReplaceModule(name, new Scaled(original, 30));

        Assert.Same(original, returned);
        Assert.Equal(keysBefore.Select(k => k.StartsWith(name + ".") ? name + ".base_layer" + k[name.Length..] : k),
            model.named_parameters().Select(p => p.name));
        double changed = BertTestKit.MaxAbsDiff(before, model.forward(ids, mask, types));
        Assert.True(changed > 1e-2, $"forward must call the replacement (diff {changed})");
        Assert.DoesNotContain(model.NamedLinears(), l => l.Name == name);

        model.ReplaceModule(name, original);

        Assert.Equal(keysBefore, model.named_parameters().Select(p => p.name));
        Assert.Equal(0, BertTestKit.MaxAbsDiff(before, model.forward(ids, mask, types)));
    }

    [Theory]
    [InlineData("encoder.layer.0.attention.output.LayerNorm", typeof(NotSupportedException))]
    [InlineData("embeddings.word_embeddings", typeof(NotSupportedException))]
    [InlineData("encoder.layer.7.attention.self.query", typeof(ArgumentException))]
    public void ReplaceModule_NotAProjection_Throws(string name, Type exception)
    {
        using var model = new BertEncoder(BertTestKit.Tiny);

        var e = Assert.Throws(exception, () => model.ReplaceModule(name, Linear(32, 32)));

        Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Constructor_HiddenNotDivisibleByHeads_ThrowsNamingFields()
    {
        var e = Assert.Throws<ArgumentException>(() => new BertEncoder(BertTestKit.Tiny with { NumAttentionHeads = 5 }));

        Assert.Contains("hidden_size (32) must be a multiple of num_attention_heads (5)", e.Message);
    }

    [Fact]
    public void Forward_LongerThanPositionTable_ThrowsNamingMaxPositions()
    {
        using var model = new BertEncoder(BertTestKit.Tiny);
        using var ids = zeros(1, 17, dtype: int64);

        var e = Assert.Throws<ArgumentException>(() => model.forward(ids, ids, ids));

        Assert.Contains("encoder's 16 positions (max_position_embeddings 16)", e.Message);
    }

    [Fact]
    public void Pool_WithoutPooler_ThrowsSayingHowToAddIt()
    {
        using var model = new BertEncoder(BertTestKit.Tiny);
        using var hidden = zeros(1, 3, 32);

        var e = Assert.Throws<InvalidOperationException>(() => model.Pool(hidden));

        Assert.Contains("addPoolingLayer", e.Message);
    }

    /// <summary>A stand-in for a LoRA wrapper: keeps the Linear as base_layer (peft's name) and scales its output.</summary>
    private sealed class Scaled : Module<Tensor, Tensor>
    {
        private readonly Linear base_layer;
        private readonly double factor;

        public Scaled(Linear linear, double factor) : base(nameof(Scaled))
        {
            base_layer = linear;
            this.factor = factor;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => base_layer.forward(x).mul(factor);
    }
}
