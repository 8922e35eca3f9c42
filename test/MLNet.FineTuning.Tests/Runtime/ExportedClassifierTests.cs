using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Tests.Images;
using MLNet.FineTuning.Tests.Pretrained;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// The runtime's service path (<see cref="ImagePixels"/> from a file's bytes, then <see cref="ExportedClassifier"/> on
/// model.onnx in one batch) against the fitted model's own <c>Transform</c> (ML.NET LoadImages → ResizeImages →
/// ExtractPixels → ONNX, row by row), on real images.
/// </summary>
[Collection(ThreeClassModelCollection.Name)]
public class ExportedClassifierTests(ThreeClassModel fixture)
{
    [Fact]
    public void Load_ImageModel_ReadsTaskClassesSizeAndOpsetFromTheFile()
    {
        using var dir = new TempDirectory();
        fixture.Model.SaveOnnx(dir.File("model.onnx"));

        using var classifier = ExportedClassifier.Load(dir.Path);

        Assert.True(classifier.IsImageModel);
        Assert.Equal(ExportedModelContract.ImageClassificationTask, classifier.Task);
        Assert.Equal(fixture.Model.ClassNames, classifier.ClassNames);
        Assert.Equal(fixture.Model.ImageSize, classifier.ImageSize);
        Assert.Equal(OnnxGraphWriter.DefaultOpset, classifier.Opset);
        Assert.Equal("CPU", classifier.ExecutionProvider);
        Assert.Null(classifier.Tokenizer);
    }

    [Fact]
    public void PredictPixels_FromFileBytes_EqualsTransformWithin1e4()
    {
        using var dir = new TempDirectory();
        fixture.Model.SaveOnnx(dir.File("model.onnx"));
        using var classifier = ExportedClassifier.Load(dir.File("model.onnx"));
        var pixels = new ImagePixels(classifier.ImageSize);
        var rows = fixture.TestRows;

        var batch = rows.SelectMany(r => pixels.FromEncoded(File.ReadAllBytes(r.ImagePath))).ToArray();
        var predictions = classifier.PredictPixels(batch, rows.Length);

        var scored = fixture.Model.Transform(fixture.Test);
        var expected = scored.GetColumn<float[]>("Score").ToList();
        var labels = scored.GetColumn<uint>("PredictedLabel").Select(k => fixture.Model.ClassNames[(int)k - 1]).ToList();
        Assert.Equal(rows.Length, predictions.Length);
        double worst = predictions.Zip(expected).Max(p => p.First.Scores.Zip(p.Second).Max(x => Math.Abs(x.First - x.Second)));
        Assert.InRange(worst, 0, 1e-4);
        Assert.Equal(labels, predictions.Select(p => p.Label));
        Assert.All(predictions, p => Assert.Equal(fixture.Model.ClassNames[p.Index], p.Label));
    }

    [Fact]
    public void ImagePixels_BytesThatAreNoImage_ThrowsSayingWhatTheyStartWith()
    {
        var e = Assert.Throws<InvalidDataException>(() => new ImagePixels(32).FromEncoded("not an image"u8.ToArray()));
        Assert.Contains("6E6F7420", e.Message);   // "not " in hex
    }

    [Fact]
    public void Load_MissingFile_NamesIt()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<FileNotFoundException>(() => ExportedClassifier.Load(dir.Path));
        Assert.Contains(Path.Combine(dir.Path, "model.onnx"), e.Message);
    }

    [Fact]
    public void Load_NotAnOnnxFile_ThrowsInvalidData()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("model.onnx"), "hello");
        var e = Assert.Throws<InvalidDataException>(() => ExportedClassifier.Load(dir.File("model.onnx")));
        Assert.Contains("not an ONNX model", e.Message);
    }

    [Fact]
    public void Load_OnnxWithoutOurMetadata_SaysItWasNotExportedHere()
    {
        using var dir = new TempDirectory();
        var writer = new OnnxGraphWriter("identity");
        string x = writer.AddInput("x", DataType.Float, "batch", 4);
        writer.Relu(x, "y");
        writer.AddOutput("y", DataType.Float, "batch", 4);
        File.WriteAllBytes(dir.File("model.onnx"), writer.ToBytes());

        var e = Assert.Throws<InvalidDataException>(() => ExportedClassifier.Load(dir.File("model.onnx")));
        Assert.Contains(ExportedModelContract.TaskKey, e.Message);
    }

    [Fact]
    public void Load_TextModelWithoutItsTokenizerFiles_NamesTheMissingFiles()
    {
        using var dir = new TempDirectory();
        var writer = new OnnxGraphWriter("text");
        string x = writer.AddInput("x", DataType.Float, "batch", 2);
        writer.Relu(x, "y");
        writer.AddOutput("y", DataType.Float, "batch", 2);
        writer.SetMetadata(ExportedModelContract.TaskKey, ExportedModelContract.TextClassificationTask);
        writer.SetMetadata(ExportedModelContract.ClassNamesKey, "[\"a\",\"b\"]");
        File.WriteAllBytes(dir.File("model.onnx"), writer.ToBytes());

        var e = Assert.Throws<FileNotFoundException>(() => ExportedClassifier.Load(dir.Path));
        Assert.Contains(Path.Combine(dir.Path, "tokenizer_config.json"), e.Message);
        Assert.Contains("vocab.txt", e.Message);
    }
}
