using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Onnx;

/// <summary>The file a fitted model's scoring chain reads its ONNX graph from (<c>Onnx/OnnxScoring</c>): there while the model
/// lives, gone when it is disposed or collected. ML.NET's copy for <c>ApplyOnnxModel</c> from a stream, which the chain used
/// until 2026-12-07, stayed in the temporary folder for good: 60 MB for each of these tiny ResNet-18 fits.</summary>
public sealed class ScoringFileTests
{
    private static IDataView Rows(MLContext ml) => TestData.Load(ml, TestData.Fashion("train", 4, ["Trouser", "Bag"]));

    private static EstimatorChain<FineTuneImageClassifierTransformer> Pipeline(MLContext ml) =>
        ml.Transforms.CopyColumns("Picture", "Image").Append(ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            ImageColumnName = "Picture", UsePretrainedWeights = false, ImageSize = 32, BatchSize = 4, Epochs = 1,
        }));

    [Fact]
    public void FittedChain_ReadsItsGraphFromOneFile_SavesMeanwhile_AndDisposingDeletesIt()
    {
        using var temp = new TempDirectory();
        var ml = new MLContext(1) { TempFilePath = temp.Path }.RegisterFineTuningRuntime();
        var data = Rows(ml);
        var model = Pipeline(ml).Fit(data);

        string graph = Assert.Single(Directory.GetFiles(temp.Path));
        Assert.EndsWith(".onnx", graph, StringComparison.Ordinal);   // never ".ort", which ONNX Runtime reads as its own format
        string zip = temp.File("model.zip");
        ml.Model.Save(model, data.Schema, zip);   // ML.NET reads the graph from that file to save it
        var expected = Scores(ml, model, data);

        model.Dispose();
        Assert.Equal(["model.zip"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));

        var loaded = ml.Model.Load(zip, out _);
        Assert.Equal(expected, Scores(ml, loaded, data));
        ((IDisposable)loaded).Dispose();
        Assert.Equal(["model.zip"], Directory.GetFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void ModelNeverDisposed_ItsGraphFileGoesWhenTheCollectorFinalizesIt()
    {
        using var temp = new TempDirectory();
        var ml = new MLContext(1) { TempFilePath = temp.Path };
        FitAndDrop(ml);
        Assert.Single(Directory.GetFiles(temp.Path));

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FitAndDrop(MLContext ml)
    {
        var data = Rows(ml);
        Pipeline(ml).Fit(data).Transform(data).Preview(2);
    }

    private static float[][] Scores(MLContext ml, ITransformer model, IDataView data) =>
        [.. ml.Data.CreateEnumerable<ScoreRow>(model.Transform(data), reuseRowObject: false).Select(r => r.Score)];

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
