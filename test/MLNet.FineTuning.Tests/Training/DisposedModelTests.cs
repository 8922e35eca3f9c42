using Microsoft.ML;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>A fitted model used after its Dispose: what needs the freed weights, sessions or graph file throws
/// ObjectDisposedException saying so; what needs only the kept ONNX bytes still works. Before: Transform threw a
/// NullReferenceException, Model.Save a FileNotFoundException naming a temporary file, and PredictBatches and SaveWeights
/// went on over freed resources.</summary>
public sealed class DisposedModelTests
{
    [Fact]
    public void AfterDispose_ScoringAndSavingThrowObjectDisposed_TheOnnxBytesStillSave()
    {
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 4, ["Trouser", "Bag"]));
        var model = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 1,
        }).Fit(data);
        int onnxLength = model.OnnxModel.Length;

        model.Dispose();
        model.Dispose();   // a second Dispose is harmless

        using var dir = new TempDirectory();
        foreach (var use in new Action[]
        {
            () => model.Transform(data),
            () => ml.Model.Save(model, data.Schema, new MemoryStream()),   // to a path, ML.NET's Save leaves the file it began
            () => model.PredictBatches(data),
            () => model.SaveWeights(dir.File("weights")),
        })
        {
            var e = Assert.Throws<ObjectDisposedException>(use);
            Assert.Contains("FineTuneImageClassifierTransformer was disposed", e.Message);
            Assert.Contains("before Dispose", e.Message);
        }
        model.SaveOnnx(dir.File("model.onnx"));
        Assert.Equal(onnxLength, new FileInfo(dir.File("model.onnx")).Length);
        Assert.Equal(["model.onnx"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));   // nothing half-written
    }
}
