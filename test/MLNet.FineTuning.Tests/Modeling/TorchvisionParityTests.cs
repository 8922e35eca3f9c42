using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>
/// The image backbones against torchvision itself: fixtures written by eng/parity/torchvision_fixtures.py (Debian's
/// python3-torchvision 0.14, random weights) hold a state_dict, an input and torchvision's pooled features; the module
/// given that state_dict must give the same features. The catalog's state_dict keys and shapes are
/// <see cref="TorchvisionShapeTests"/>'.
/// </summary>
public class TorchvisionParityTests(ITestOutputHelper output)
{
    /// <summary>The committed fixtures; the script's <c>--full</c> folder (full-size B0 and ResNet-18, 68 MB, not
    /// committed) is checked by pointing MLNET_FINETUNING_PARITY_FIXTURES at it.</summary>
    private static string Fixtures =>
        Environment.GetEnvironmentVariable("MLNET_FINETUNING_PARITY_FIXTURES") is { Length: > 0 } folder ? folder : Committed;

    internal static string Committed => Path.Combine(TestData.RepoRoot, "test", "fixtures", "torchvision");

    private const string TinyEfficientNet = "efficientnet-w0.25-d0.25";
    private const string TinyVit = "vit-tiny";
    private static readonly string[] CommittedNames = [TinyEfficientNet, TinyVit];

    /// <summary>The script's tiny ViT (TINY_VIT): 8 px patches, 2 blocks, 2 heads, width 32, MLP 64, at <paramref name="size"/> px.</summary>
    internal static VisionTransformer TinyVisionTransformer(int size = 32) => new(size, 8, 2, 2, 32, 64);

    internal static string TinyVitWeights => Path.Combine(Committed, TinyVit + ".pt");

    private static readonly Dictionary<string, Func<ImageBackbone>> Architectures = new()
    {
        [TinyEfficientNet] = () => new EfficientNet(0.25, 0.25),
        [TinyVit] = () => TinyVisionTransformer(),
        ["efficientnet_b0"] = () => new EfficientNet(1.0, 1.0),
        ["resnet18"] = () => new ResNet(false, [2, 2, 2, 2]),
        ["vit_b_16"] = () => new VisionTransformer(224, 16, 12, 12, 768, 3072),
    };

    /// <summary>The tiny networks always (their files are committed: a missing one fails), the others where present.</summary>
    public static TheoryData<string> FixtureNames()
    {
        var names = new TheoryData<string>(CommittedNames);
        foreach (var name in Architectures.Keys.Where(n => !CommittedNames.Contains(n) && File.Exists(Path.Combine(Fixtures, n + "-io.pt"))))
            names.Add(name);
        return names;
    }

    [Theory]
    [MemberData(nameof(FixtureNames))]
    public void Features_TorchvisionStateDict_MatchTorchvisionWithin1e4(string name)
    {
        string folder = CommittedNames.Contains(name) && !File.Exists(Path.Combine(Fixtures, name + ".pt")) ? Committed : Fixtures;
        using var scope = NewDisposeScope();
        using var model = Architectures[name]();
        ImageWeightLoader.LoadTorchvision(model, Path.Combine(folder, name + ".pt"));
        AssertFeaturesMatch(model, Path.Combine(folder, name + "-io.pt"), name);
    }

    [Fact]
    public void Features_TinyVitBuiltFor48Px_MatchTorchvisionsInterpolateEmbeddings()
    {
        // The 32 px file (a 4×4 grid) loaded into a network built for 48 px (6×6): the position table is resampled at load
        // time, and must give what torchvision gives after its own interpolate_embeddings.
        using var scope = NewDisposeScope();
        using var model = TinyVisionTransformer(48);
        ImageWeightLoader.LoadTorchvision(model, TinyVitWeights);

        Assert.Equal([1, 37, 32], model.Encoder.PositionEmbedding.shape);
        AssertFeaturesMatch(model, Path.Combine(Committed, "vit-tiny-48-io.pt"), "vit-tiny at 48 px");
    }

    [Fact]
    public void Resample_SameGrid_ReturnsTheTableItself()
    {
        // At the file's own size nothing is interpolated (so the parity test above at 32 px sees the table as saved).
        using var scope = NewDisposeScope();
        using var table = randn(1, 17, 32);
        Assert.Same(table, VitPositions.Resample(table, 4));
        using var resized = VitPositions.Resample(table, 6);
        Assert.Equal([1, 37, 32], resized.shape);
        Assert.True(resized[0, 0].equal(table[0, 0]).all().item<bool>(), "the class token's position is kept");
    }

    [Fact]
    public void LoadTorchvision_ViTFileWithTorchvisionsOlderMlpNames_LoadsAsTheCurrentNames()
    {
        // torchvision's loader still renames mlp.linear_1 / mlp.linear_2 to mlp.0 / mlp.3 (files written before the rename).
        using var scope = NewDisposeScope();
        var legacy = StateDictLoader.Read(TinyVitWeights).ToDictionary(
            kv => kv.Key.Replace(".mlp.0.", ".mlp.linear_1.").Replace(".mlp.3.", ".mlp.linear_2."), kv => kv.Value);
        Assert.Contains("encoder.layers.encoder_layer_0.mlp.linear_1.weight", legacy.Keys);
        using var model = TinyVisionTransformer();

        ImageWeightLoader.Assign(model, legacy, "legacy");

        AssertFeaturesMatch(model, Path.Combine(Committed, TinyVit + "-io.pt"), "vit-tiny, legacy names");
    }

    private void AssertFeaturesMatch(ImageBackbone model, string ioPath, string name)
    {
        var io = StateDictLoader.Read(ioPath);
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
        using var scope = NewDisposeScope();
        using var model = new ResNet(false, [1, 1, 1, 1]);
        var before = model.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, Path.Combine(Committed, TinyEfficientNet + ".pt")));

        Assert.Contains("ResNet(basic, [1,1,1,1])", e.Message);
        Assert.Contains("features.0.0.weight", e.Message);
        Assert.True(before.equal(model.state_dict()["conv1.weight"]).all().item<bool>());
    }
}
