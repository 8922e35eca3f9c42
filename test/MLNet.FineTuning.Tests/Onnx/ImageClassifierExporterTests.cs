using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Onnx;

public class ImageClassifierExporterTests(ITestOutputHelper output)
{
    private const int ImageSize = 64;
    private static readonly string[] ClassNames = ["cat", "dog", "bird", "fish"];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Export_BatchOf1And3_OutputsMatchTorchSharp(bool mlNetPreprocessing)
    {
        using var scope = NewDisposeScope();
        manual_seed(mlNetPreprocessing ? 4 : 5);
        using var model = SmallClassifier();
        AssertOnnxMatchesTorchSharp(model, mlNetPreprocessing ? ImagePreprocessing.MlNetResNet : ImagePreprocessing.ImageNet);
    }

    [Fact]
    public void Export_EfficientNetWithTorchvisionWeights_OutputsMatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        var backbone = new EfficientNet(0.25, 0.25);
        ImageWeightLoader.LoadTorchvision(backbone, Path.Combine(TestData.RepoRoot, "test", "fixtures", "torchvision", "efficientnet-w0.25-d0.25.pt"));
        manual_seed(6);
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, ClassNames.Length, dropoutRate: 0.2));
        AssertOnnxMatchesTorchSharp(model, ImagePreprocessing.ImageNet);
    }

    [Fact]
    public void Export_VisionTransformerWithResampledTorchvisionWeights_OutputsMatchTorchSharp()
    {
        // The tiny torchvision ViT's 32 px file in a network built for 64 px: the export carries the resampled table.
        using var scope = NewDisposeScope();
        var backbone = TorchvisionParityTests.TinyVisionTransformer(ImageSize);
        ImageWeightLoader.LoadTorchvision(backbone, TorchvisionParityTests.TinyVitWeights);
        manual_seed(7);
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, ClassNames.Length, dropoutRate: 0.2));
        AssertOnnxMatchesTorchSharp(model, ImagePreprocessing.ImageNet);
    }

    [Fact]
    public void Export_VisionTransformerAtAnotherImageSize_ThrowsNamingItsSize()
    {
        using var backbone = TorchvisionParityTests.TinyVisionTransformer(ImageSize);
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, ClassNames.Length, dropoutRate: 0.2));

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            ImageClassifierExporter.Export(model, ImagePreprocessing.ImageNet, 32, ClassNames));

        Assert.Contains($"{ImageSize} px images only", e.Message);
    }

    /// <summary>Exports <paramref name="model"/> and runs batches of 1 and 3 through ONNX Runtime: probabilities within
    /// 1e-4 of TorchSharp's eval-mode forward, the same argmax and labels.</summary>
    private void AssertOnnxMatchesTorchSharp(Classifier model, ImagePreprocessing preprocessing)
    {
        var bytes = ImageClassifierExporter.Export(model, preprocessing, ImageSize, ClassNames);

        using var session = new InferenceSession(bytes);
        foreach (int batch in new[] { 1, 3 })
        {
            var pixels = rand(batch, 3, ImageSize, ImageSize).mul_(255);
            Tensor logits;
            model.eval();
            using (no_grad()) logits = model.forward(preprocessing.Apply(pixels));
            var expectedIndex = logits.argmax(1).data<long>().ToArray();

            using var results = OnnxTestKit.Run(session, ImageClassifierExporter.PixelsInput, pixels,
                ImageClassifierExporter.ProbabilitiesOutput, ImageClassifierExporter.PredictedIndexOutput,
                ImageClassifierExporter.PredictedLabelOutput);
            double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), logits.softmax(1));
            output.WriteLine($"{model.Backbone.Shape} batch {batch}: max |diff| probabilities = {diff:E2}");

            Assert.True(diff < 1e-4, $"probabilities differ from TorchSharp by {diff:E2}");
            Assert.Equal([(long)batch, ClassNames.Length], results[0].GetTensorTypeAndShape().Shape);
            Assert.Equal(expectedIndex, results[1].GetTensorDataAsSpan<long>().ToArray());
            Assert.Equal(expectedIndex.Select(i => ClassNames[i]), results[2].GetStringTensorAsArray());
        }
    }

    [Fact]
    public void Export_ModelInTrainingMode_StaysInTrainingMode()
    {
        using var model = SmallClassifier();
        model.train();
        ImageClassifierExporter.Export(model, ImagePreprocessing.ImageNet, ImageSize, ClassNames);
        Assert.True(model.training);
        Assert.True(model.Head.training);
    }

    [Fact]
    public void Export_ClassNamesCountDiffersFromHead_ThrowsNamingBothCounts()
    {
        using var model = SmallClassifier();
        var e = Assert.Throws<ArgumentException>(() =>
            ImageClassifierExporter.Export(model, ImagePreprocessing.ImageNet, ImageSize, ["a", "b"]));
        Assert.Contains("2 class names", e.Message);
        Assert.Contains("4 outputs", e.Message);
    }

    [Fact]
    public void Export_ImageSizeBelow32_ThrowsArgumentOutOfRange()
    {
        using var model = SmallClassifier();
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            ImageClassifierExporter.Export(model, ImagePreprocessing.ImageNet, 16, ClassNames));
    }

    [Fact]
    public void Save_NormalTempPath_WritesLoadableModelAndNoTempFile()
    {
        var folder = Directory.CreateTempSubdirectory("onnx-save-");
        try
        {
            using var model = SmallClassifier();
            string path = Path.Combine(folder.FullName, "model.onnx");
            File.WriteAllText(path, "old content, replaced");
            ImageClassifierExporter.Save(model, ImagePreprocessing.ImageNet, ImageSize, ClassNames, path);

            using var session = new InferenceSession(path);
            Assert.Equal(ImageClassifierExporter.PixelsInput, session.InputNames.Single());
            Assert.Equal(["model.onnx"], folder.GetFiles().Select(f => f.Name));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Save_FolderDoesNotExist_ThrowsIOExceptionNamingPathAndWritesNothing()
    {
        string folder = Path.Combine(Path.GetTempPath(), "onnx-missing-" + Guid.NewGuid().ToString("N"));
        string path = Path.Combine(folder, "model.onnx");
        using var model = SmallClassifier();

        var e = Assert.ThrowsAny<IOException>(() =>
            ImageClassifierExporter.Save(model, ImagePreprocessing.ImageNet, ImageSize, ClassNames, path));
        Assert.Contains(path, e.Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void Save_UnwritableFolder_ThrowsIOExceptionNamingPathAndLeavesNoFile()
    {
        // /proc refuses new files even to root, where a chmod-ed folder would not.
        if (!OperatingSystem.IsLinux()) return;
        string path = "/proc/mlnet-finetuning-test.onnx";
        using var model = SmallClassifier();

        var e = Assert.ThrowsAny<IOException>(() =>
            ImageClassifierExporter.Save(model, ImagePreprocessing.ImageNet, ImageSize, ClassNames, path));
        Assert.Contains(path, e.Message);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles("/proc", "*mlnet-finetuning-test*"));
    }

    /// <summary>A BasicBlock ResNet [1,1,1,1] with random BatchNorm statistics and a 4-class head.</summary>
    private static Classifier SmallClassifier()
    {
        var backbone = new ResNet(false, [1, 1, 1, 1]);
        OnnxTestKit.RandomizeBatchNorm(backbone);
        return new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, ClassNames.Length, dropoutRate: 0.2));
    }
}
