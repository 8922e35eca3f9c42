using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>torchvision/timm state_dicts (.safetensors and PyTorch pickles) written by PyBridge and read back.</summary>
public class ImageWeightLoaderTorchvisionTests
{
    [Theory]
    [InlineData("resnet18.safetensors")]
    [InlineData("resnet18.pth")]
    public void LoadTorchvision_ResNet18RoundTrip_ParametersAndBuffersIdentical(string fileName)
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(false, [2, 2, 2, 2]), seed: 1);
        string path = Save(dir.File(fileName), StateDictWithClassifier(source, 512));
        using var loaded = new ResNet(false, [2, 2, 2, 2]);

        ImageWeightLoader.LoadTorchvision(loaded, path);

        AssertSameState(source, loaded);
    }

    [Theory]
    [InlineData("resnet50-like.safetensors")]
    [InlineData("resnet50-like.bin")]
    public void LoadTorchvision_BottleneckRoundTrip_ParametersAndBuffersIdentical(string fileName)
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(true, [1, 1, 1, 1]), seed: 2);
        string path = Save(dir.File(fileName), StateDictWithClassifier(source, 2048));
        using var loaded = new ResNet(true, [1, 1, 1, 1]);

        ImageWeightLoader.LoadTorchvision(loaded, path);

        AssertSameState(source, loaded);
    }

    [Fact]
    public void LoadTorchvision_NumBatchesTrackedAbsent_LoadsAndResetsCounter()
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(false, [1, 1, 1, 1]), seed: 3);
        var tensors = source.state_dict().Where(kv => !kv.Key.EndsWith("num_batches_tracked")).ToDictionary();
        string path = Save(dir.File("old-format.safetensors"), tensors);
        using var loaded = Randomised(new ResNet(false, [1, 1, 1, 1]), seed: 4);

        ImageWeightLoader.LoadTorchvision(loaded, path);

        var state = loaded.state_dict();
        Assert.All(tensors, kv => Assert.True(Same(kv.Value, state[kv.Key]), kv.Key));
        Assert.Equal(0L, state["layer2.0.bn1.num_batches_tracked"].item<long>());
    }

    [Fact]
    public void LoadTorchvision_MissingKeys_ThrowsListingAllAndLeavesModelUnchanged()
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(false, [1, 1, 1, 1]), seed: 5);
        var tensors = source.state_dict();
        tensors.Remove("bn1.bias");
        tensors.Remove("layer3.0.downsample.0.weight");
        string path = Save(dir.File("partial.safetensors"), tensors);
        using var model = new ResNet(false, [1, 1, 1, 1]);
        using var before = model.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, path));

        Assert.Contains("missing (2)", e.Message);
        Assert.Contains("bn1.bias", e.Message);
        Assert.Contains("layer3.0.downsample.0.weight", e.Message);
        Assert.True(Same(before, model.state_dict()["conv1.weight"]), "nothing may be copied from a file that does not fit");
    }

    [Fact]
    public void LoadTorchvision_UnexpectedKeys_ThrowsListingAll()
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(false, [1, 1, 1, 1]), seed: 6);
        var tensors = StateDictWithClassifier(source, 512);
        tensors["layer1.1.conv1.weight"] = zeros(64, 64, 3, 3);
        tensors["head.weight"] = zeros(10, 512);
        string path = Save(dir.File("extra.pt"), tensors);
        using var model = new ResNet(false, [1, 1, 1, 1]);

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, path));

        Assert.Contains("unexpected (2)", e.Message);
        Assert.Contains("layer1.1.conv1.weight", e.Message);
        Assert.Contains("head.weight", e.Message);
        Assert.DoesNotContain("fc.weight", e.Message);
    }

    [Fact]
    public void LoadTorchvision_WrongShapes_ThrowsListingAll()
    {
        using var dir = new TempDirectory();
        using var source = Randomised(new ResNet(false, [1, 1, 1, 1]), seed: 7);
        var tensors = source.state_dict();
        tensors["conv1.weight"] = zeros(64, 3, 3, 3);
        tensors["layer4.0.bn2.running_var"] = ones(256);
        string path = Save(dir.File("shapes.safetensors"), tensors);
        using var model = new ResNet(false, [1, 1, 1, 1]);

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, path));

        Assert.Contains("wrong shape (2)", e.Message);
        Assert.Contains("conv1.weight (file [64,3,3,3], network [64,3,7,7])", e.Message);
        Assert.Contains("layer4.0.bn2.running_var (file [256], network [512])", e.Message);
    }

    [Fact]
    public void LoadTorchvision_MissingFile_ThrowsNamingIt()
    {
        using var model = new ResNet(false, [1, 1, 1, 1]);
        string path = Path.Combine(Path.GetTempPath(), "no-such-folder", "resnet18.safetensors");

        var e = Assert.Throws<FileNotFoundException>(() => ImageWeightLoader.LoadTorchvision(model, path));

        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData("garbage.safetensors")]
    [InlineData("garbage.pth")]
    public void LoadTorchvision_CorruptFile_ThrowsInvalidData(string fileName)
    {
        using var dir = new TempDirectory();
        string path = dir.File(fileName);
        File.WriteAllBytes(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 37 + 11))]);
        using var model = new ResNet(false, [1, 1, 1, 1]);

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadTorchvision(model, path));

        Assert.Contains(path, e.Message);
    }

    /// <summary>Random parameters and BN statistics (a fresh BatchNorm's mean 0 / var 1 would hide swapped buffers).</summary>
    private static ResNet Randomised(ResNet model, int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (key, t) in model.state_dict())
        {
            if (key.EndsWith("num_batches_tracked")) t.fill_(seed + 10);
            else if (key.EndsWith("running_var")) t.copy_(rand(t.shape, generator: generator).add_(0.5));
            else t.copy_(randn(t.shape, generator: generator));
        }
        return model;
    }

    private static Dictionary<string, Tensor> StateDictWithClassifier(ResNet model, int features)
    {
        var tensors = model.state_dict();
        tensors["fc.weight"] = randn(1000, features);
        tensors["fc.bias"] = randn(1000);
        return tensors;
    }

    private static string Save(string path, Dictionary<string, Tensor> tensors)
    {
        if (path.EndsWith(".safetensors")) Safetensors.SaveStateDict(path, tensors);
        else PyTorchPickler.PickleStateDict(path, tensors);
        return path;
    }

    private static void AssertSameState(ResNet expected, ResNet actual)
    {
        var e = expected.state_dict();
        var a = actual.state_dict();
        Assert.Equal(e.Keys.Order(), a.Keys.Order());
        Assert.Contains("layer1.0.bn1.num_batches_tracked", e.Keys);
        Assert.All(e, kv => Assert.True(Same(kv.Value, a[kv.Key]), kv.Key));
    }

    private static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();   // holds eq's and all's results through the next native call
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }
}
