using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling.Lora;

public class LoraInjectorTests
{
    [Fact]
    public void Apply_DefaultTargets_WrapsExactlyQueryAndValueOfEveryLayer()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);

        var lora = LoraInjector.Apply(encoder, new LoraConfig());

        Assert.Equal(
            new[]
            {
                "encoder.layer.0.attention.self.query", "encoder.layer.0.attention.self.value",
                "encoder.layer.1.attention.self.query", "encoder.layer.1.attention.self.value",
            },
            lora.Modules.Select(m => m.Name));
        Assert.Equal(4, encoder.named_modules().Count(m => m.module is LoraLinear));
        Assert.Contains("encoder.layer.0.attention.self.query.base_layer.weight", encoder.named_parameters().Select(p => p.name));
        Assert.Contains("encoder.layer.0.attention.self.key.weight", encoder.named_parameters().Select(p => p.name));
        Assert.Equal("default", lora.ActiveAdapter);
    }

    [Fact]
    public void Apply_Default_FreezesBaseAndTrainsOnlyLora()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        const int r = 8, layers = 2, hidden = 32;

        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = r });

        var trainable = encoder.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(layers * 2 * 2, trainable.Count);
        Assert.All(trainable, n => Assert.Matches(@"\.lora_[AB]\.default\.weight$", n));
        Assert.All(encoder.named_parameters().Where(p => !p.name.Contains(".lora_")), p => Assert.False(p.parameter.requires_grad, p.name));
        Assert.Equal(layers * 2 * r * (hidden + hidden), lora.TrainableParameterCount);
        Assert.Equal(trainable, lora.TrainableParameters().Select(p => p.Name));
    }

    [Fact]
    public void Apply_AllProjections_TrainableCountIsRankTimesInPlusOutPerModule()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var config = new LoraConfig
        {
            Rank = 4,
            TargetModules = [LoraTargetModules.Query, LoraTargetModules.Key, LoraTargetModules.Value,
                             LoraTargetModules.Intermediate, LoraTargetModules.Output],
        };

        var lora = LoraInjector.Apply(encoder, config);

        // Per layer: q, k, v, attention.output.dense (32→32 each), intermediate (32→64), output (64→32).
        Assert.Equal(12, lora.Modules.Count);
        Assert.Equal(2 * 4 * (4 * 64 + 96 + 96), lora.TrainableParameterCount);
    }

    [Fact]
    public void Apply_TextClassifierDefault_WrapsEveryLinearOfTheEncoder()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var linears = encoder.named_modules().Where(m => m.module is Linear).Select(m => m.name).ToList();

        var lora = LoraInjector.Apply(encoder, new LoraTextClassifier.Options().LoraConfig);

        Assert.Equal(6 * BertTestKit.Tiny.NumHiddenLayers, linears.Count);
        Assert.Equal(linears.Order(StringComparer.Ordinal), lora.Modules.Select(m => m.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Apply_AttentionOutputOnly_LeavesFeedForwardOutputPlain()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny with { NumHiddenLayers = 1 });

        var lora = LoraInjector.Apply(encoder, new LoraConfig { TargetModules = [LoraTargetModules.AttentionOutput] });

        Assert.Equal(new[] { "encoder.layer.0.attention.output.dense" }, lora.Modules.Select(m => m.Name));
    }

    [Fact]
    public void Apply_RsLora_EveryModuleScalesByAlphaOverSqrtRank()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);

        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = 16, Alpha = 8, UseRsLora = true });

        Assert.All(lora.Modules, m => Assert.Equal(2.0, m.Module.Scaling("default"), 12));
    }

    [Fact]
    public void Apply_AtInit_EncoderOutputUnchanged()
    {
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 1);
        var before = LoraTestKit.Forward(encoder);

        LoraInjector.Apply(encoder, new LoraConfig());

        Assert.Equal(0, BertTestKit.MaxAbsDiff(before, LoraTestKit.Forward(encoder)));
    }

    [Theory]
    [InlineData("word_embeddings", "embeddings.word_embeddings", "Embedding")]
    [InlineData("LayerNorm", "embeddings.LayerNorm", "LayerNorm")]
    public void Apply_TargetIsNotLinear_ThrowsNotSupportedNamingModule(string target, string module, string type)
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var keys = encoder.named_parameters().Select(p => p.name).ToList();

        var e = Assert.Throws<NotSupportedException>(() =>
            LoraInjector.Apply(encoder, new LoraConfig { TargetModules = [LoraTargetModules.Query, target] }));

        Assert.Contains($"'{module}' ({type}", e.Message);
        Assert.Equal(keys, encoder.named_parameters().Select(p => p.name));   // nothing was wrapped
    }

    [Fact]
    public void Apply_TargetMatchesNothing_ThrowsNamingTargets()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);

        var e = Assert.Throws<ArgumentException>(() => LoraInjector.Apply(encoder, new LoraConfig { TargetModules = ["q_proj"] }));

        Assert.Contains("[q_proj] match no module", e.Message);
    }

    [Fact]
    public void Apply_InvalidConfig_ThrowsNamingField()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);

        var e = Assert.Throws<ArgumentException>(() => LoraInjector.Apply(encoder, new LoraConfig { Rank = 0 }));

        Assert.Contains("Rank (r)", e.Message);
    }

    [Fact]
    public void Backward_OneStep_GradientReachesOnlyLoraAndBaseStaysPut()
    {
        using var scope = NewDisposeScope();
        using var encoder = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 2);
        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = 4 });
        var baseBefore = encoder.named_parameters().Where(p => !p.name.Contains(".lora_"))
            .ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var (ids, mask, types) = LoraTestKit.Batch();
        var optimizer = TorchSharp.torch.optim.SGD(lora.TrainableParameters().Select(p => p.Parameter), 0.1);

        encoder.train();
        encoder.forward(ids, mask, types).pow(2).mean().backward();

        foreach (var (name, p) in encoder.named_parameters())
        {
            if (name.Contains(".lora_B.")) Assert.True(p.grad is not null && p.grad.abs().max().item<float>() > 0, $"{name} gets a gradient");
            else if (name.Contains(".lora_A.")) Assert.NotNull(p.grad);   // zero while B is zero, as in PEFT
            else Assert.Null(p.grad);
        }
        optimizer.step();
        foreach (var (name, p) in encoder.named_parameters().Where(p => !p.name.Contains(".lora_")))
            Assert.True(baseBefore[name].equal(p).all().item<bool>(), $"{name} must not move");
        Assert.All(lora.Modules, m => Assert.True(m.Module.LoraB("default").weight!.abs().max().item<float>() > 0));
    }

    [Fact]
    public void SetActiveAdapter_SecondAdapter_OutputsFollowAndBaseIsShared()
    {
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 3);
        var plain = LoraTestKit.Forward(encoder);
        var lora = LoraInjector.Apply(encoder, new LoraConfig());
        LoraTestKit.Randomise(lora, "default", seed: 4);
        var withDefault = LoraTestKit.Forward(encoder);
        var bases = lora.Modules.ToDictionary(m => m.Name, m => m.Module.BaseLayer);
        var baseWeights = bases.ToDictionary(b => b.Key, b => b.Value.weight!.detach().clone());

        lora.AddAdapter("b", new LoraConfig { Rank = 2, TargetModules = [LoraTargetModules.Query, LoraTargetModules.Key] });
        LoraTestKit.Randomise(lora, "b", seed: 5);
        Assert.Equal(0, BertTestKit.MaxAbsDiff(withDefault, LoraTestKit.Forward(encoder)));   // added, not active
        lora.SetActiveAdapter("b");
        var withB = LoraTestKit.Forward(encoder);

        Assert.True(BertTestKit.MaxAbsDiff(withDefault, withB) > 1e-3, "adapter b changes the output");
        Assert.Equal(6, lora.Modules.Count);                        // q, k, v in both layers; v has only "default"
        Assert.All(lora.TrainableParameters(), p => Assert.Contains(".b.weight", p.Name));
        Assert.Equal(2 * 2 * 2 * (32 + 32), lora.TrainableParameterCount);
        lora.SetActiveAdapter("default");
        Assert.Equal(0, BertTestKit.MaxAbsDiff(withDefault, LoraTestKit.Forward(encoder)));
        lora.SetActiveAdapter(null);
        Assert.Equal(0, BertTestKit.MaxAbsDiff(plain, LoraTestKit.Forward(encoder)));
        foreach (var (name, baseLayer) in bases)
        {
            var module = lora.Modules.Single(m => m.Name == name).Module;
            Assert.Same(baseLayer, module.BaseLayer);
            Assert.True(baseWeights[name].equal(module.BaseLayer.weight!).all().item<bool>(), $"{name}: base weight untouched");
        }
    }

    [Fact]
    public void MergeAll_ThenRemoveMerged_PlainEncoderComputesTheAdaptedOutput()
    {
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 6);
        var keys = encoder.named_parameters().Select(p => p.name).ToList();
        var lora = LoraInjector.Apply(encoder, new LoraConfig { TargetModules = [LoraTargetModules.Query, LoraTargetModules.Output] });
        LoraTestKit.Randomise(lora, "default", seed: 7);
        var adapted = LoraTestKit.Forward(encoder);

        lora.MergeAll();
        Assert.True(lora.Merged);
        Assert.True(BertTestKit.MaxAbsDiff(adapted, LoraTestKit.Forward(encoder)) < 1e-5);
        Assert.Throws<InvalidOperationException>(() => lora.AddAdapter("b", new LoraConfig()));
        lora.Remove(merge: true);

        Assert.Equal(keys, encoder.named_parameters().Select(p => p.name));
        Assert.DoesNotContain(encoder.named_modules(), m => m.module is LoraLinear);
        Assert.True(BertTestKit.MaxAbsDiff(adapted, LoraTestKit.Forward(encoder)) < 1e-5);
    }

    [Fact]
    public void Remove_Unmerged_RestoresPlainLinearsAndBaseOutput()
    {
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 8);
        var before = LoraTestKit.Forward(encoder);
        var keys = encoder.named_parameters().Select(p => p.name).ToList();
        var lora = LoraInjector.Apply(encoder, new LoraConfig());
        LoraTestKit.Randomise(lora, "default", seed: 9);
        lora.MergeAll();

        lora.Remove();

        Assert.Equal(keys, encoder.named_parameters().Select(p => p.name));
        Assert.All(encoder.NamedLinears(), l => Assert.IsType<Linear>(l.Linear));
        Assert.True(BertTestKit.MaxAbsDiff(before, LoraTestKit.Forward(encoder)) < 1e-5);
        Assert.Throws<InvalidOperationException>(() => lora.SetActiveAdapter("default"));
    }

    [Fact]
    public void MergeAll_OneAdapterBroken_ThrowsNamingModuleAndMergesNothing()
    {
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 10);
        var lora = LoraInjector.Apply(encoder, new LoraConfig());
        LoraTestKit.Randomise(lora, "default", seed: 11);
        using (no_grad()) lora.Modules[^1].Module.LoraA("default").weight![0, 0].fill_(float.PositiveInfinity);
        var baseWeights = lora.Modules.Select(m => m.Module.BaseLayer.weight!.detach().clone()).ToList();

        var e = Assert.Throws<InvalidOperationException>(lora.MergeAll);

        Assert.Contains("encoder.layer.1.attention.self.value", e.Message);
        Assert.False(lora.Merged);
        for (int i = 0; i < baseWeights.Count; i++)
            Assert.True(BertTestKit.MaxAbsDiff(baseWeights[i], lora.Modules[i].Module.BaseLayer.weight!) < 1e-6, lora.Modules[i].Name);
    }
}
