using MLNet.FineTuning.Modeling.Lora;

namespace MLNet.FineTuning.Tests.Modeling.Lora;

public class LoraConfigTests
{
    [Fact]
    public void Defaults_ArePeftDefaults()
    {
        var config = new LoraConfig();

        Assert.Equal(8, config.Rank);
        Assert.Equal(8, config.Alpha);
        Assert.Equal(0, config.Dropout);
        Assert.False(config.UseRsLora);
        Assert.Equal(new[] { "query", "value" }, config.TargetModules);
        Assert.Equal(1, config.Scaling);
        Assert.Same(LoraTargetModules.Bert, LoraTargetModules.Defaults["bert"]);
        config.Validate();
    }

    [Theory]
    [InlineData(0, 8, 0.0, "Rank (r) must be at least 1; got 0.")]
    [InlineData(8, 0, 0.0, "Alpha (lora_alpha) must be a finite number greater than 0; got 0.")]
    [InlineData(8, double.NaN, 0.0, "Alpha (lora_alpha)")]
    [InlineData(8, 8, 1.0, "Dropout (lora_dropout) must be in [0, 1); got 1.")]
    [InlineData(8, 8, -0.1, "Dropout (lora_dropout) must be in [0, 1)")]
    public void Validate_InvalidValue_ThrowsNamingField(int rank, double alpha, double dropout, string expected)
    {
        var config = new LoraConfig { Rank = rank, Alpha = alpha, Dropout = dropout };

        var e = Assert.Throws<ArgumentException>(config.Validate);

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Validate_NoTargets_ThrowsNamingTargetModules()
    {
        var e = Assert.Throws<ArgumentException>(new LoraConfig { TargetModules = [] }.Validate);

        Assert.Contains("TargetModules (target_modules) must name at least one module", e.Message);
    }

    [Fact]
    public void Validate_SeveralProblems_ListsEach()
    {
        var e = Assert.Throws<ArgumentException>(new LoraConfig { Rank = -1, Dropout = 2, TargetModules = [""] }.Validate);

        Assert.Contains("Rank (r)", e.Message);
        Assert.Contains("Dropout (lora_dropout)", e.Message);
        Assert.Contains("TargetModules (target_modules) must not contain empty names", e.Message);
    }

    [Fact]
    public void TargetModules_CallersListChangesLater_ConfigKeepsItsCopy()
    {
        var names = new List<string> { LoraTargetModules.Query };
        var config = new LoraConfig { TargetModules = names };

        names.Add(LoraTargetModules.Key);

        Assert.Equal(new[] { "query" }, config.TargetModules);
        Assert.Equal(config, new LoraConfig { TargetModules = ["query"] });
    }
}
