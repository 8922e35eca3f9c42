using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Transforms.Image;
using MLNet.FineTuning.Tests.Pretrained;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// The exported ONNX file against the trained TorchSharp network and against ML.NET's scoring, on real
/// images with the pixels ML.NET itself produces (ResizeImages IsoCrop + ExtractPixels).
/// </summary>
[Collection(ThreeClassModelCollection.Name)]
public class FineTuneImageClassifierOnnxParityTests(ThreeClassModel fixture)
{
    private const int Rows = 24;

    /// <summary>The first rows of the test split as ML.NET hands them to the network: float [n,3,S,S], RGB 0..255.</summary>
    private (IDataView View, float[] Pixels) MlNetPixels()
    {
        var ml = fixture.Ml;
        var view = ml.Data.TakeRows(fixture.Test, Rows);
        int s = fixture.Model.ImageSize;
        var pixels = ml.Transforms.ResizeImages("Resized", s, s, "Image", ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center)
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"))
            .Fit(view).Transform(view);
        var rows = ml.Data.CreateEnumerable<PixelRow>(pixels, reuseRowObject: false).ToArray();
        Assert.Equal(Rows, rows.Length);
        return (view, rows.SelectMany(r => r.Pixels).ToArray());
    }

    private float[] OnnxProbabilities(string onnxPath, float[] pixels, out string[] labels)
    {
        int s = fixture.Model.ImageSize;
        using var session = new InferenceSession(onnxPath);
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [Rows, 3, s, s]);
        using var run = new RunOptions();
        using var outputs = session.Run(run, new Dictionary<string, OrtValue> { ["pixels"] = input }, ["probabilities", "predicted_label"]);
        Assert.Equal([(long)Rows, 3], outputs[0].GetTensorTypeAndShape().Shape);
        labels = Enumerable.Range(0, Rows).Select(i => outputs[1].GetStringElement(i)).ToArray();
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    private static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        return a.Zip(b).Max(p => Math.Abs(p.First - p.Second));
    }

    [Fact]
    public void SaveOnnx_RealImages_ProbabilitiesMatchTorchSharpWithin1e4()
    {
        using var dir = new TempDirectory();
        string path = dir.File("classifier.onnx");
        fixture.Model.SaveOnnx(path);
        var (_, pixels) = MlNetPixels();
        int s = fixture.Model.ImageSize;

        float[] torchProbabilities;
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var x = tensor(pixels, [Rows, 3, s, s]);
            torchProbabilities = nn.functional.softmax(fixture.Model.Model.forward(fixture.Model.Preprocessing.Apply(x)), 1).data<float>().ToArray();
        }
        var onnx = OnnxProbabilities(path, pixels, out var labels);

        Assert.InRange(MaxAbsDiff(onnx, torchProbabilities), 0, 1e-4);
        for (int i = 0; i < Rows; i++)
        {
            var row = onnx.AsSpan(3 * i, 3).ToArray();
            Assert.Equal(fixture.Model.ClassNames[Array.IndexOf(row, row.Max())], labels[i]);
        }
    }

    [Fact]
    public void Transform_RealImages_ScoreEqualsOnnxFileProbabilitiesWithin1e4()
    {
        using var dir = new TempDirectory();
        string path = dir.File("classifier.onnx");
        fixture.Model.SaveOnnx(path);
        var (view, pixels) = MlNetPixels();

        var scores = fixture.Ml.Data.CreateEnumerable<ScoreRow>(fixture.Model.Transform(view), reuseRowObject: false)
            .SelectMany(r => r.Score).ToArray();
        var onnx = OnnxProbabilities(path, pixels, out _);

        Assert.InRange(MaxAbsDiff(scores, onnx), 0, 1e-4);
    }

    [Fact]
    public void OnnxModel_Property_EqualsSavedFile()
    {
        using var dir = new TempDirectory();
        string path = dir.File("classifier.onnx");
        fixture.Model.SaveOnnx(path);

        Assert.Equal(fixture.Model.OnnxModel.ToArray(), File.ReadAllBytes(path));
    }

    private sealed class PixelRow
    {
        public float[] Pixels { get; set; } = [];
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
