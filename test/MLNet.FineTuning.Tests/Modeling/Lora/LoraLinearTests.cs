using MLNet.FineTuning.Modeling.Lora;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Tests.Modeling.Lora;

public class LoraLinearTests
{
    private static LoraLinear Wrapped(int seed, LoraConfig? config = null, long inFeatures = 12, long outFeatures = 10)
    {
        var generator = new torch.Generator((ulong)seed);
        var linear = Linear(inFeatures, outFeatures);
        // Only the random draws live in this scope: the module is the caller's and outlives it.
        using (no_grad())
        using (NewDisposeScope())
        {
            linear.weight!.copy_(randn(linear.weight.shape, generator: generator));
            linear.bias!.copy_(randn(linear.bias.shape, generator: generator));
        }
        var lora = new LoraLinear(linear, "encoder.layer.0.attention.self.query");
        lora.AddAdapter("default", config ?? new LoraConfig { Rank = 4 });
        return lora;
    }

    [Fact]
    public void LoraLinear_AtInit_OutputEqualsBase()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(1);
        var x = randn(3, 5, 12, generator: new torch.Generator(7));

        using var _ = no_grad();
        Assert.Equal(0, BertTestKit.MaxAbsDiff(lora.BaseLayer.forward(x), lora.forward(x)));
    }

    [Fact]
    public void AddAdapter_Default_KaimingUniformAAndZeroBWithPeftLiveNames()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(1, new LoraConfig { Rank = 4 }, inFeatures: 300);

        Assert.Equal(new[] { "base_layer.weight", "base_layer.bias", "lora_A.default.weight", "lora_B.default.weight" },
            lora.named_parameters().Select(p => p.name));
        var a = lora.LoraA("default").weight!;
        Assert.Equal(new long[] { 4, 300 }, a.shape);
        Assert.Equal(new long[] { 10, 4 }, lora.LoraB("default").weight!.shape);
        Assert.Equal(0, lora.LoraB("default").weight!.abs().max().item<float>());
        // Kaiming-uniform with a = √5: gain √(2 / (1 + 5)), bound gain·√(3 / fan_in) = 1/√fan_in.
        double bound = 1 / Math.Sqrt(300), max = a.abs().max().item<float>();
        Assert.InRange(max, 0.9 * bound, bound);
    }

    [Fact]
    public void Forward_RandomAdapter_AddsScaledLowRankUpdate()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(2, new LoraConfig { Rank = 4, Alpha = 12 });
        LoraTestKit.Randomise(lora, "default", new torch.Generator(3));
        var x = randn(6, 12, generator: new torch.Generator(4));

        using var _ = no_grad();
        var a = lora.LoraA("default").weight!;
        var b = lora.LoraB("default").weight!;
        var expected = lora.BaseLayer.forward(x).add(x.matmul(a.t()).matmul(b.t()).mul(12.0 / 4));

        Assert.Equal(3.0, lora.Scaling("default"));
        Assert.True(BertTestKit.MaxAbsDiff(expected, lora.forward(x)) < 1e-5);
    }

    [Theory]
    [InlineData(false, 16.0 / 4)]
    [InlineData(true, 16.0 / 2)]
    public void Scaling_RsLora_IsAlphaOverSqrtRank(bool rsLora, double expected)
    {
        using var lora = Wrapped(1, new LoraConfig { Rank = 4, Alpha = 16, UseRsLora = rsLora });

        Assert.Equal(expected, lora.Scaling("default"), 12);
    }

    [Fact]
    public void Merge_ThenUnmerge_RestoresBaseWeight()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(3);
        LoraTestKit.Randomise(lora, "default", new torch.Generator(5));
        var before = lora.BaseLayer.weight!.clone();

        lora.Merge();
        double moved = BertTestKit.MaxAbsDiff(before, lora.BaseLayer.weight!);
        lora.Unmerge();

        Assert.True(moved > 1e-2, $"merging must change the weight (moved {moved})");
        Assert.False(lora.Merged);
        Assert.True(BertTestKit.MaxAbsDiff(before, lora.BaseLayer.weight!) < 1e-6);
    }

    [Fact]
    public void Merged_OutputEqualsUnmerged()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(4, new LoraConfig { Rank = 4, Alpha = 8, Dropout = 0.1 });
        LoraTestKit.Randomise(lora, "default", new torch.Generator(6));
        lora.eval();
        var x = randn(2, 7, 12, generator: new torch.Generator(8));
        using var _ = no_grad();
        var unmerged = lora.forward(x);

        lora.Merge();

        Assert.True(lora.Merged);
        Assert.Equal("default", lora.MergedAdapter);
        Assert.True(BertTestKit.MaxAbsDiff(unmerged, lora.forward(x)) < 1e-5);
        Assert.True(BertTestKit.MaxAbsDiff(unmerged, lora.BaseLayer.forward(x)) < 1e-5, "the base layer alone now computes it");
    }

    [Fact]
    public void Merge_AdapterWithNaN_ThrowsNamingModuleAndKeepsWeight()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(5);
        using (no_grad()) lora.LoraB("default").weight![0, 0].fill_(float.NaN);
        var before = lora.BaseLayer.weight!.clone();

        var e = Assert.Throws<InvalidOperationException>(lora.Merge);

        Assert.Contains("encoder.layer.0.attention.self.query", e.Message);
        Assert.Contains("NaN", e.Message);
        Assert.False(lora.Merged);
        Assert.True(before.equal(lora.BaseLayer.weight!).all().item<bool>());
    }

    [Fact]
    public void Forward_Training_DropsOnlyTheAdapterInput()
    {
        using var scope = NewDisposeScope();
        using var lora = Wrapped(6, new LoraConfig { Rank = 4, Dropout = 0.5 });
        var x = randn(4, 12, generator: new torch.Generator(9));
        using var _ = no_grad();

        lora.train();
        Assert.Equal(0, BertTestKit.MaxAbsDiff(lora.BaseLayer.forward(x), lora.forward(x)));   // B = 0: dropout cannot show
        LoraTestKit.Randomise(lora, "default", new torch.Generator(10));
        lora.eval();
        var evaluated = lora.forward(x);
        lora.train();
        Assert.True(BertTestKit.MaxAbsDiff(evaluated, lora.forward(x)) > 1e-4, "dropout acts on the adapter path while training");
        lora.eval();
        Assert.Equal(0, BertTestKit.MaxAbsDiff(evaluated, lora.forward(x)));
    }

    [Fact]
    public void AddAdapter_SecondName_KeysCarryTheAdapterNameAndFirstStaysActive()
    {
        using var lora = Wrapped(7);

        lora.AddAdapter("b", new LoraConfig { Rank = 2 });

        Assert.Equal("default", lora.ActiveAdapter);
        Assert.Equal(new[] { "default", "b" }, lora.Adapters);
        Assert.Contains("lora_A.b.weight", lora.named_parameters().Select(p => p.name));
        Assert.Throws<ArgumentException>(() => lora.AddAdapter("b", new LoraConfig()));
        Assert.Throws<ArgumentException>(() => lora.AddAdapter("x.y", new LoraConfig()));
    }
}
