using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// Two fits of the same seeded options on the same files, one from decoded images (<c>LoadImages</c>) and one from
/// encoded bytes (<c>LoadRawImageBytes</c>): Trouser / Bag, 4 training images each, random initialisation, 32 px,
/// one epoch (about a second each). Scored on 4 test-split images per class.
/// </summary>
public sealed class RawBytesModels : IDisposable
{
    public RawBytesModels()
    {
        Ml = new MLContext(seed: 1);
        var train = TestData.Fashion("train", 4, "Trouser", "Bag");
        TestRows = TestData.Fashion("test", 4, "Trouser", "Bag");
        TestImages = TestData.Load(Ml, TestRows);
        TestBytes = TestData.LoadBytes(Ml, TestRows);
        ImageModel = Fit(TestData.Load(Ml, train));
        var bytes = TestData.LoadBytes(Ml, train);
        BytesModel = Fit(bytes);
        ModelZip = zipDirectory.File("model.zip");
        Ml.Model.Save(BytesModel, bytes.Schema, ModelZip);
    }

    public static FineTuneImageClassifier.Options Options() => new()
    {
        Backbone = "resnet18", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 1, Seed = 1,
    };

    public MLContext Ml { get; }
    public ImageFolder.Row[] TestRows { get; }
    public IDataView TestImages { get; }
    public IDataView TestBytes { get; }
    public FineTuneImageClassifierTransformer ImageModel { get; }
    public FineTuneImageClassifierTransformer BytesModel { get; }
    /// <summary><see cref="BytesModel"/> saved with mlContext.Model.Save.</summary>
    public string ModelZip { get; }

    private readonly TempDirectory zipDirectory = new();

    private FineTuneImageClassifierTransformer Fit(IDataView data) =>
        Ml.MulticlassClassification.Trainers.FineTuneImageClassifier(Options()).Fit(data);

    public void Dispose()
    {
        ImageModel.Dispose();
        BytesModel.Dispose();
        zipDirectory.Dispose();
    }
}
