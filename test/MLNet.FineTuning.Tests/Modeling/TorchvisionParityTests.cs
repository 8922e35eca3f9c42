using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>
/// The image backbones against torchvision itself: fixtures written by eng/parity/torchvision_fixtures.py (Debian's
/// python3-torchvision 0.14, random weights) hold a state_dict, an input and torchvision's pooled features; the module
/// given that state_dict must give the same features. shapes.json holds every catalog architecture's state_dict keys and
/// shapes (hashed), so a wrong block count or channel rounding in any size is caught without its weights.
/// </summary>
public class TorchvisionParityTests(ITestOutputHelper output)
{
    /// <summary>The committed fixtures; the script's <c>--full</c> folder (full-size B0 and ResNet-18, 68 MB, not
    /// committed) is checked by pointing MLNET_FINETUNING_PARITY_FIXTURES at it.</summary>
    private static string Fixtures =>
        Environment.GetEnvironmentVariable("MLNET_FINETUNING_PARITY_FIXTURES") is { Length: > 0 } folder ? folder : Committed;

    private static string Committed => Path.Combine(TestData.RepoRoot, "test", "fixtures", "torchvision");

    private const string TinyEfficientNet = "efficientnet-w0.25-d0.25";

    private static readonly Dictionary<string, Func<ImageBackbone>> Architectures = new()
    {
        [TinyEfficientNet] = () => new EfficientNet(0.25, 0.25),
        ["efficientnet_b0"] = () => new EfficientNet(1.0, 1.0),
        ["resnet18"] = () => new ResNet(false, [2, 2, 2, 2]),
    };

    /// <summary>The tiny EfficientNet always (its files are committed: a missing one fails), the others where present.</summary>
    public static TheoryData<string> FixtureNames()
    {
        var names = new TheoryData<string> { TinyEfficientNet };
        foreach (var name in Architectures.Keys.Where(n => n != TinyEfficientNet && File.Exists(Path.Combine(Fixtures, n + "-io.pt"))))
            names.Add(name);
        return names;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Features_TorchvisionStateDict_MatchTorchvisionWithin1e4(string name)
    {
        string folder = name == TinyEfficientNet && !File.Exists(Path.Combine(Fixtures, name + ".pt")) ? Committed : Fixtures;
        using var scope = NewDisposeScope();
        using var model = Architectures[name]();
        ImageWeightLoader.LoadTorchvision(model, Path.Combine(folder, name + ".pt"));
        var io = StateDictLoader.Read(Path.Combine(folder, name + "-io.pt"));
        model.eval();
        Tensor features;
        using (no_grad()) features = model.forward(io["input"]);

        var expected = io["features"];
        double diff = features.sub(expected).abs().max().item<float>();
        double scale = Math.Max(1, expected.abs().max().item<float>());
        output.WriteLine($"{name}: max |diff| {diff:E2}, max |feature| {expected.abs().max().item<float>():F3}");
        Assert.Equal(expected.shape, features.shape);
        Assert.True(diff / scale < 1e-4, $"{name}: features differ from torchvision's by {diff:E2} (scale {scale:F2})");
    }

    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_b1")]
    [InlineData("efficientnet_b2")]
    [InlineData("efficientnet_b3")]
    [InlineData("efficientnet_b4")]
    [InlineData("efficientnet_b5")]
    [InlineData("efficientnet_b6")]
    [InlineData("efficientnet_b7")]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    public void StateDict_CatalogArchitecture_HasTorchvisionsKeysAndShapes(string name)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(Committed, "shapes.json")))!["models"]![name]!;
        using var model = PretrainedCatalog.GetImageBackbone(name).CreateRandom();

        var lines = model.state_dict().Select(kv => $"{kv.Key}:{string.Join(",", kv.Value.shape)}").Order(StringComparer.Ordinal).ToArray();
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));

        Assert.Equal((int)manifest["keys"]!, lines.Length);
        Assert.Equal((string)manifest["sha256"]!, hash);
    }

    [Fact]
    public void LayerOf_EfficientNet_StemStagesAndHeadFromTheInput()
    {
        using var model = new EfficientNet(0.25, 0.25);
        var groups = model.named_parameters().ToDictionary(p => p.name, p => model.LayerOf(p.name));

        Assert.Equal(0, groups["features.0.0.weight"]);
        Assert.Equal(3, groups["features.3.0.block.1.0.weight"]);
        Assert.Equal(model.LayerCount - 1, groups["features.8.0.weight"]);
        Assert.Equal(Enumerable.Range(0, model.LayerCount), groups.Values.Distinct().Order());
    }

    [Fact]
    public void LoadTorchvision_EfficientNetFileIntoResNet_ThrowsNamingBothShapesAndLoadsNothing()
    {
        using var model = new ResNet(false, [1, 1, 1, 1]);
        var before = model.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, Path.Combine(Committed, TinyEfficientNet + ".pt")));

        Assert.Contains("ResNet(basic, [1,1,1,1])", e.Message);
        Assert.Contains("features.0.0.weight", e.Message);
        Assert.True(before.equal(model.state_dict()["conv1.weight"]).all().item<bool>());
    }
}
