using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Tests.Images;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Every way a service scores, used from 16 threads at once, gives exactly the answers of sequential use: the fitted
/// transformer's Transform and PredictBatches, a reloaded model.zip with one PredictionEngine per thread (as ML.NET
/// documents), and the runtime's ImagePixels + ExportedClassifier.
/// </summary>
[Collection(ThreeClassModelCollection.Name)]
public class ConcurrentScoringTests(ThreeClassModel fixture)
{
    private const int Threads = 16;

    /// <summary>Runs <paramref name="score"/> once alone, then on <see cref="Threads"/> threads at once, and compares.</summary>
    private static void AssertSameOnEveryThread(Func<float[]> score)
    {
        var sequential = score();
        using var start = new Barrier(Threads);
        var results = new float[Threads][];
        var errors = new Exception?[Threads];
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            try { results[t] = score(); }
            catch (Exception e) { errors[t] = e; }   // an exception on a thread of its own would end the test process
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.All(errors, e => Assert.True(e is null, e?.ToString()));
        Assert.All(results, r => Assert.Equal(sequential, r));
    }

    [Fact]
    public void Transform_From16Threads_SameScores() =>
        AssertSameOnEveryThread(() => [.. fixture.Model.Transform(fixture.Test).GetColumn<float[]>("Score").SelectMany(s => s)]);

    [Fact]
    public void PredictBatches_From16Threads_SameScores() =>
        AssertSameOnEveryThread(() => [.. fixture.Model.PredictBatches(fixture.Test, batchSize: 16).SelectMany(p => p.Score)]);

    [Fact]
    public void ModelZip_OnePredictionEnginePerThread_SameScores()
    {
        var ml = new MLContext(seed: 1).RegisterFineTuningRuntime();
        var rows = fixture.TestRows.Take(30).ToArray();
        // The zip starts at the Image column (LoadImages ran before the estimator): put the loading step in front.
        var loadImages = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath))
            .Fit(ml.Data.LoadFromEnumerable(rows));
        var model = loadImages.Append(ml.Model.Load(fixture.ModelZip, out _));
        AssertSameOnEveryThread(() =>
        {
            // Not disposed: ML.NET's PredictionEngine.Dispose disposes the model's transformers, the ONNX session included,
            // and every other engine over the same model then fails (NullReferenceException in InferenceSession.Run; seen
            // here first; dotnet/machinelearning#5945).
            var engine = ml.Model.CreatePredictionEngine<ImageFolder.Row, ScoreRow>(model);
            return [.. rows.SelectMany(r => engine.Predict(r).Score)];
        });
    }

    [Fact]
    public void ImagePixelsAndExportedClassifier_From16Threads_SameScores()
    {
        using var dir = new TempDirectory();
        fixture.Model.SaveOnnx(dir.File("model.onnx"));
        using var classifier = ExportedClassifier.Load(dir.Path);
        var pixels = new ImagePixels(classifier.ImageSize);
        var files = fixture.TestRows.Take(30).Select(r => File.ReadAllBytes(r.ImagePath)).ToArray();
        AssertSameOnEveryThread(() => [.. files.SelectMany(f => classifier.PredictPixels(pixels.FromEncoded(f), 1)[0].Scores)]);
    }

    private sealed class ScoreRow
    {
        public float[] Score { get; set; } = [];
    }
}
