using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using MLNet.FineTuning.Tests.Modeling.Lora;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Pretrained;

public class LoraAdapterFilesTests
{
    private static Dictionary<string, Tensor> Head(int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        return new()
        {
            ["classifier.weight"] = randn(3, 32, generator: generator),
            ["classifier.bias"] = randn(3, generator: generator),
        };
    }

    [Fact]
    public void Save_WithHead_WritesPeftConfigJson()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = 4, Alpha = 16, Dropout = 0.1 });
        using var scope = NewDisposeScope();

        LoraAdapterFiles.Save(temp.Path, lora, "sentence-transformers/all-MiniLM-L6-v2", Head(1));

        // PEFT's LoraConfig fields, sorted as json.dumps(sort_keys=True) sorts them (src/peft/config.py).
        string expected = """
            {
              "alpha_pattern": {},
              "auto_mapping": null,
              "base_model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2",
              "bias": "none",
              "fan_in_fan_out": false,
              "inference_mode": true,
              "init_lora_weights": true,
              "layers_pattern": null,
              "layers_to_transform": null,
              "lora_alpha": 16,
              "lora_dropout": 0.1,
              "modules_to_save": [
                "classifier",
                "score"
              ],
              "peft_type": "LORA",
              "r": 4,
              "rank_pattern": {},
              "revision": null,
              "target_modules": [
                "query",
                "value"
              ],
              "task_type": "SEQ_CLS",
              "use_dora": false,
              "use_rslora": false
            }
            """;
        Assert.Equal(expected.ReplaceLineEndings("\n"), File.ReadAllText(temp.File("adapter_config.json")).ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Save_WithoutHead_ModulesToSaveIsNull()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(encoder, new LoraConfig { UseRsLora = true });

        LoraAdapterFiles.Save(temp.Path, lora, "base");

        string json = File.ReadAllText(temp.File("adapter_config.json"));
        Assert.Contains("\"modules_to_save\": null", json);
        Assert.Contains("\"use_rslora\": true", json);
        using var scope = NewDisposeScope();
        Assert.DoesNotContain(Safetensors.LoadStateDict(temp.File("adapter_model.safetensors")).Keys, k => k.Contains("classifier"));
    }

    [Fact]
    public void Save_WithHead_WritesPeftSavedKeyNames()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = 4 });
        using var scope = NewDisposeScope();

        LoraAdapterFiles.Save(temp.Path, lora, "base", Head(1));

        var tensors = Safetensors.LoadStateDict(temp.File("adapter_model.safetensors"));
        // get_peft_model_state_dict: PeftModel keys without the adapter name; the modules_to_save head without
        // its "modules_to_save.default." part (src/peft/utils/save_and_load.py, src/peft/utils/other.py).
        string[] expected =
        [
            "base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight",
            "base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight",
            "base_model.model.bert.encoder.layer.0.attention.self.value.lora_A.weight",
            "base_model.model.bert.encoder.layer.0.attention.self.value.lora_B.weight",
            "base_model.model.bert.encoder.layer.1.attention.self.query.lora_A.weight",
            "base_model.model.bert.encoder.layer.1.attention.self.query.lora_B.weight",
            "base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight",
            "base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight",
            "base_model.model.classifier.bias",
            "base_model.model.classifier.weight",
        ];
        Assert.Equal(expected, tensors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(new long[] { 4, 32 }, tensors["base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight"].shape);
        Assert.Equal(new long[] { 32, 4 }, tensors["base_model.model.bert.encoder.layer.0.attention.self.query.lora_B.weight"].shape);
        Assert.Equal(new long[] { 3, 32 }, tensors["base_model.model.classifier.weight"].shape);
    }

    [Fact]
    public void SaveThenLoad_RobertaEncoder_KeysUnderRobertaAsPeftNamesThem_AndTheAdapterLoadsBack()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        var roberta = BertTestKit.Tiny with { ModelType = BertConfig.Roberta, PadTokenId = 1, MaxPositionEmbeddings = 18 };
        using var trained = BertTestKit.Randomised(new BertEncoder(roberta), seed: 4);
        trained.eval();
        var lora = LoraInjector.Apply(trained, new LoraConfig { Rank = 4 });
        LoraTestKit.Randomise(lora, "default", seed: 5);
        LoraAdapterFiles.Save(temp.Path, lora, "tiny-roberta", Head(6));

        // RobertaForSequenceClassification's encoder field is "roberta": PEFT's keys are base_model.model.roberta.….
        var keys = Safetensors.LoadStateDict(temp.File("adapter_model.safetensors")).Keys.ToList();
        Assert.Contains("base_model.model.roberta.encoder.layer.0.attention.self.query.lora_A.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains(".bert.", StringComparison.Ordinal));
        using var fresh = BertTestKit.Randomised(new BertEncoder(roberta), seed: 4);
        fresh.eval();
        using var file = LoraAdapterFiles.Load(temp.Path);
        var loaded = file.InjectInto(fresh, Head(7));
        Assert.Equal(lora.Modules.Select(m => m.Name), loaded.Modules.Select(m => m.Name));
        Assert.Equal(0, BertTestKit.MaxAbsDiff(LoraTestKit.Forward(trained), LoraTestKit.Forward(fresh)));
    }

    [Fact]
    public void SaveThenLoad_IntoFreshInjectedEncoder_IdenticalOutputsAndHead()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        var config = new LoraConfig
        {
            Rank = 4, Alpha = 8, UseRsLora = true, Dropout = 0.05,
            TargetModules = [LoraTargetModules.Query, LoraTargetModules.Value, LoraTargetModules.Intermediate],
        };
        using var trained = LoraTestKit.Encoder(seed: 1);
        var lora = LoraInjector.Apply(trained, config);
        LoraTestKit.Randomise(lora, "default", seed: 2);
        var head = Head(3);
        var expected = LoraTestKit.Forward(trained);
        LoraAdapterFiles.Save(temp.Path, lora, "tiny-bert", head);

        using var fresh = LoraTestKit.Encoder(seed: 1);
        var freshHead = new Dictionary<string, Tensor> { ["classifier.weight"] = zeros(3, 32), ["classifier.bias"] = zeros(3) };
        using var file = LoraAdapterFiles.Load(temp.Path);
        var loaded = file.InjectInto(fresh, freshHead);

        Assert.Equal(config, file.Config);
        Assert.Equal("tiny-bert", file.BaseModelNameOrPath);
        Assert.Equal(new[] { "classifier", "score" }, file.ModulesToSave);
        Assert.Equal(lora.Modules.Select(m => m.Name), loaded.Modules.Select(m => m.Name));
        Assert.Equal(0, BertTestKit.MaxAbsDiff(expected, LoraTestKit.Forward(fresh)));
        Assert.True(head["classifier.weight"].equal(freshHead["classifier.weight"]).all().item<bool>());
        Assert.True(head["classifier.bias"].equal(freshHead["classifier.bias"]).all().item<bool>());
    }

    [Fact]
    public void Load_KeysWithAdapterNameAndNoBertPrefix_Accepted()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var encoder = LoraTestKit.Encoder(seed: 4);
        var lora = LoraInjector.Apply(encoder, new LoraConfig { Rank = 2 });
        LoraTestKit.Randomise(lora, "default", seed: 5);
        var expected = LoraTestKit.Forward(encoder);
        LoraAdapterFiles.Save(temp.Path, lora, "base", Head(6));
        // Rewrite the keys in PEFT's live form: ".lora_A.default.weight", "classifier.modules_to_save.default.weight",
        // and for the encoder without "bert." (an adapter trained on BertModel itself).
        var renamed = Safetensors.LoadStateDict(temp.File("adapter_model.safetensors")).ToDictionary(
            kv => kv.Key.Replace(".lora_A.", ".lora_A.default.").Replace(".lora_B.", ".lora_B.default.")
                .Replace("classifier.", "classifier.modules_to_save.default.").Replace("model.bert.", "model."),
            kv => kv.Value);
        Safetensors.SaveStateDict(temp.File("adapter_model.safetensors"), renamed);

        using var fresh = LoraTestKit.Encoder(seed: 4);
        var head = Head(7);
        using var file = LoraAdapterFiles.Load(temp.Path);
        file.InjectInto(fresh, head);

        Assert.Equal(0, BertTestKit.MaxAbsDiff(expected, LoraTestKit.Forward(fresh)));
        Assert.True(Head(6)["classifier.weight"].equal(head["classifier.weight"]).all().item<bool>());
    }

    [Fact]
    public void Load_TensorsOfAnotherRankThanConfig_ThrowsNamingKeyAndShapes()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        LoraAdapterFiles.Save(temp.Path, LoraInjector.Apply(encoder, new LoraConfig { Rank = 4 }), "base");
        File.WriteAllText(temp.File("adapter_config.json"),
            File.ReadAllText(temp.File("adapter_config.json")).Replace("\"r\": 4", "\"r\": 8"));

        var e = Assert.Throws<InvalidDataException>(() => LoraAdapterFiles.Load(temp.Path));

        Assert.Contains("base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight [4,32]: lora_A must be [r, in] = [8, 32] for r = 8", e.Message);
        Assert.Contains("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight [32,4]: lora_B must be [out, r] = [32, 8]", e.Message);
    }

    [Fact]
    public void CopyTo_AdapterOfAnotherRank_ThrowsNamingField()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        LoraAdapterFiles.Save(temp.Path, LoraInjector.Apply(encoder, new LoraConfig { Rank = 4 }), "base");
        using var other = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(other, new LoraConfig { Rank = 8 });
        using var file = LoraAdapterFiles.Load(temp.Path);

        var e = Assert.Throws<InvalidDataException>(() => file.CopyTo(lora));

        Assert.Contains("r 4 (adapter: 8)", e.Message);
    }

    [Fact]
    public void CopyTo_AdapterTargetsOtherModules_ListsMissingAndUnexpectedKeys()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        LoraAdapterFiles.Save(temp.Path, LoraInjector.Apply(encoder, new LoraConfig()), "base");
        using var other = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(other, new LoraConfig { TargetModules = [LoraTargetModules.Query, LoraTargetModules.Key] });
        using var file = LoraAdapterFiles.Load(temp.Path);

        var e = Assert.Throws<InvalidDataException>(() => file.CopyTo(lora));

        Assert.Contains("missing (4): encoder.layer.0.attention.self.key.lora_A.weight", e.Message);
        Assert.Contains("unexpected (4): encoder.layer.0.attention.self.value.lora_A.weight", e.Message);
    }

    [Fact]
    public void Load_ForeignAndUnpairedKeys_ListsEach()
    {
        using var temp = new TempDirectory();
        using var scope = NewDisposeScope();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        LoraAdapterFiles.Save(temp.Path, LoraInjector.Apply(encoder, new LoraConfig()), "base");
        var tensors = Safetensors.LoadStateDict(temp.File("adapter_model.safetensors"));
        tensors.Remove("base_model.model.bert.encoder.layer.1.attention.self.value.lora_B.weight");
        tensors["base_model.model.bert.encoder.layer.0.attention.self.query.base_layer.bias"] = zeros(32);
        Safetensors.SaveStateDict(temp.File("adapter_model.safetensors"), tensors);

        var e = Assert.Throws<InvalidDataException>(() => LoraAdapterFiles.Load(temp.Path));

        Assert.Contains("base_model.model.bert.encoder.layer.1.attention.self.value.lora_A.weight has no lora_B", e.Message);
        Assert.Contains("unexpected", e.Message);
        Assert.Contains("base_model.model.bert.encoder.layer.0.attention.self.query.base_layer.bias", e.Message);
    }

    [Theory]
    [InlineData("\"use_dora\": false", "\"use_dora\": true", "use_dora true")]
    [InlineData("\"rank_pattern\": {}", "\"rank_pattern\": {\"query\": 4}", "rank_pattern {\"query\":4}")]
    [InlineData("\"bias\": \"none\"", "\"bias\": \"all\"", "bias \"all\"")]
    public void Load_PeftFeatureNotImplemented_ThrowsNotSupportedNamingField(string from, string to, string expected)
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        LoraAdapterFiles.Save(temp.Path, LoraInjector.Apply(encoder, new LoraConfig()), "base");
        File.WriteAllText(temp.File("adapter_config.json"), File.ReadAllText(temp.File("adapter_config.json")).Replace(from, to));

        var e = Assert.Throws<NotSupportedException>(() => LoraAdapterFiles.Load(temp.Path));

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Load_NotLora_ThrowsNamingPeftType()
    {
        using var temp = new TempDirectory();
        File.WriteAllText(temp.File("adapter_config.json"), """{"peft_type": "IA3", "r": 0}""");

        var e = Assert.Throws<InvalidDataException>(() => LoraAdapterFiles.Load(temp.Path));

        Assert.Contains("peft_type must be \"LORA\"; got \"IA3\"", e.Message);
        Assert.Contains("Rank (r) must be at least 1", e.Message);
    }

    [Fact]
    public void Save_HeadKeyOutsideClassifier_ThrowsNamingKey()
    {
        using var temp = new TempDirectory();
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        var lora = LoraInjector.Apply(encoder, new LoraConfig());
        using var scope = NewDisposeScope();

        var e = Assert.Throws<ArgumentException>(() =>
            LoraAdapterFiles.Save(temp.Path, lora, "base", new Dictionary<string, Tensor> { ["fc.weight"] = zeros(2, 32) }));

        Assert.Contains("fc.weight", e.Message);
    }
}
