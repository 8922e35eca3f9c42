using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>The CNTK ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18, mapped onto the TorchSharp ResNet.</summary>
public class ImageWeightLoaderMlNetOnnxTests(ITestOutputHelper output)
{
    private static string OnnxPath => ImageWeightLoader.DefaultMlNetResNet18Path;

    [Fact]
    public void LoadMlNetOnnx_ResNet18_FeaturesMatchOnnxRuntime()
    {
        using var scope = NewDisposeScope();
        using var model = new ResNet(false, [2, 2, 2, 3]);
        ImageWeightLoader.LoadMlNetOnnx(model, OnnxPath);
        model.eval();
        // Realistic input magnitudes: random 0..255 pixels through the net's own normalisation.
        var generator = new torch.Generator(7);
        var x = ImagePreprocessing.MlNetResNet.Apply(rand([1, 3, 224, 224], generator: generator).mul_(255));

        float[] expected;
        using (var session = new InferenceSession(OnnxPath))
        {
            var input = new DenseTensor<float>(x.data<float>().ToArray(), [1, 3, 224, 224]);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("Input247", input)]);
            expected = results.Single(r => r.Name == "Pooling395_Output_0").AsTensor<float>().ToArray();
        }
        float[] actual;
        using (no_grad()) actual = model.forward(x).data<float>().ToArray();

        Assert.Equal(512, expected.Length);
        Assert.Equal(expected.Length, actual.Length);
        double maxDiff = expected.Zip(actual, (e, a) => Math.Abs(e - (double)a)).Max();
        output.WriteLine($"max |TorchSharp - ONNX Runtime| = {maxDiff:G3} (feature range {expected.Min():G3}..{expected.Max():G3})");
        Assert.True(maxDiff <= 1e-4, $"max abs diff {maxDiff:G3}");
        Assert.True(expected.Max() > 0.1f, "features should not be degenerate");
    }

    [Fact]
    public void LoadMlNetOnnx_MissingFile_ThrowsNamingPathAndPackage()
    {
        using var model = new ResNet(false, [2, 2, 2, 3]);
        string path = Path.Combine(Path.GetTempPath(), "no-such-folder", "ResNet18.onnx");

        var e = Assert.Throws<FileNotFoundException>(() => ImageWeightLoader.LoadMlNetOnnx(model, path));

        Assert.Equal(path, e.FileName);
        Assert.Contains(path, e.Message);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", e.Message);
    }

    [Fact]
    public void LoadMlNetOnnx_TruncatedFile_ThrowsInvalidData()
    {
        using var dir = new TempDirectory();
        string path = dir.File("ResNet18.onnx");
        var bytes = File.ReadAllBytes(OnnxPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        using var model = new ResNet(false, [2, 2, 2, 3]);

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadMlNetOnnx(model, path));

        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void LoadMlNetOnnx_TorchvisionBlockCounts_ThrowsListingUnmappedAndLeavesModelUnchanged()
    {
        // torchvision's ResNet-18 has 2 blocks in layer4; the file has 3, which must not be dropped silently.
        using var model = new ResNet(false, [2, 2, 2, 2]);
        using var before = model.state_dict()["conv1.weight"].clone();

        var e = Assert.Throws<InvalidDataException>(() => ImageWeightLoader.LoadMlNetOnnx(model, OnnxPath));

        Assert.Contains("unmapped nodes", e.Message);
        // The third layer4 block: 2 conv weights + 2 × 4 BatchNorm tensors.
        Assert.Contains("unmapped initializers (10)", e.Message);
        Assert.True(Same(before, model.state_dict()["conv1.weight"]));
    }

    private static bool Same(torch.Tensor a, torch.Tensor b)
    {
        using var scope = NewDisposeScope();   // holds eq's and all's results through the next native call
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }
}
