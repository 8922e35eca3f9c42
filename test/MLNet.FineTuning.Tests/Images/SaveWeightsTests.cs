using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Tests.Pretrained;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Images;

public class SaveWeightsTests
{
    [Theory]
    [InlineData(PretrainedCatalog.ResNet18MlNet, true)]
    [InlineData("efficientnet_b0", false)]   // no EfficientNet weights ship: from random initialisation
    public void SaveWeights_RebuiltFromItsOwnMetadata_ScoresAsTheFittedModel(string backboneName, bool pretrained)
    {
        // What SaveWeights promises a PyTorch or TorchSharp user: checkpoint.json says which network to build, and
        // model.safetensors fills it so that it scores as the fitted model (its ONNX scoring chain) does.
        var ml = new MLContext(1);
        var rows = TestData.Fashion("train", 4, "Trouser", "Bag", "Sandal");
        var data = TestData.Load(ml, rows);
        using var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            LabelColumnName = "Label", ImageColumnName = "Image", ImageSize = 32, BatchSize = 4, Epochs = 1,
            Backbone = backboneName, UsePretrainedWeights = pretrained,
        }).Fit(data);
        using var folder = new TempDirectory();

        model.SaveWeights(folder.Path);

        var metadata = JsonNode.Parse(File.ReadAllText(folder.File("checkpoint.json")))!;
        var definition = PretrainedCatalog.GetImageBackbone((string)metadata["backbone"]!);
        Assert.Equal(backboneName, definition.Name);
        var classNames = metadata["classNames"]!.AsArray().Select(n => (string)n!).ToArray();
        Assert.Equal(model.ClassNames, classNames);
        // Every tensor below (preprocessing, forward, softmax, the indexed elements) is held until the test ends.
        using var scope = NewDisposeScope();
        var backbone = definition.CreateRandom((int)metadata["imageSize"]!);   // a ViT's position table depends on it
        using var network = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, classNames.Length, (double)metadata["headDropout"]!));
        network.load_safetensors(folder.File("model.safetensors"), strict: true);
        network.eval();

        var pixels = new ImagePixels((int)metadata["imageSize"]!);
        var batch = rows.SelectMany(r => pixels.FromEncoded(File.ReadAllBytes(r.ImagePath))).ToArray();
        using var input = tensor(batch, [rows.Length, 3, pixels.ImageSize, pixels.ImageSize]);
        using var _ = no_grad();
        using var probabilities = network.forward(definition.Preprocessing.Apply(input)).softmax(1);
        var expected = model.Transform(data).GetColumn<float[]>("Score").ToArray();
        for (int i = 0; i < rows.Length; i++)
            for (int k = 0; k < classNames.Length; k++)
                Assert.Equal(expected[i][k], probabilities[i, k].item<float>(), 4);
    }
}
