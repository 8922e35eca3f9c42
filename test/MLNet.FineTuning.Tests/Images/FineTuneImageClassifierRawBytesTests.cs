using Microsoft.ML;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Tests.Training;
using static MLNet.FineTuning.Tests.Images.ImagePredictions;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>
/// An image column of encoded bytes (<c>LoadRawImageBytes</c>): training, scoring, the saved model in this process
/// and in a process without TorchSharp. The fits compare seeded runs exactly, so they run alone.
/// </summary>
[Collection(SeededTorchRuns.Name)]
public class FineTuneImageClassifierRawBytesTests(RawBytesModels fixture) : IClassFixture<RawBytesModels>
{
    [Fact]
    public void Fit_RawBytesAndDecodedImagesOfSameFiles_SameSeed_IdenticalScores()
    {
        // Bytes are decoded by the same SkiaSharp decoder as LoadImages' files, so both fits see the same pixels
        // and, seeded alike, train to the same weights.
        var fromImages = Predict(fixture.Ml, fixture.ImageModel, fixture.TestImages);
        var fromBytes = Predict(fixture.Ml, fixture.BytesModel, fixture.TestBytes);

        Assert.Equal(fixture.TestRows.Length, fromBytes.Length);
        Assert.True(fromBytes.Select(p => p.Score[0]).Distinct().Count() > 1, "the scores do not depend on the image");
        Assert.Equal(fromImages.Select(p => p.PredictedLabel), fromBytes.Select(p => p.PredictedLabel));
        Assert.Equal(fromImages.Select(p => p.Score), fromBytes.Select(p => p.Score));
        Assert.Equal(fixture.ImageModel.History.Select(h => h.TrainLoss), fixture.BytesModel.History.Select(h => h.TrainLoss));
    }

    [Fact]
    public void Transform_BytesModel_DropsItsIntermediateColumns()
    {
        var schema = fixture.BytesModel.Transform(fixture.TestBytes).Schema;

        Assert.DoesNotContain(schema, c => c.Name.StartsWith("__MLNetFineTuning", StringComparison.Ordinal));
        Assert.NotNull(schema.GetColumnOrNull("Score"));
        Assert.NotNull(schema.GetColumnOrNull("Image"));   // the input passes through
    }

    [Fact]
    public void PredictBatches_RawBytes_MatchesTransformScores()
    {
        var viaMlNet = Predict(fixture.Ml, fixture.BytesModel, fixture.TestBytes);
        var batched = fixture.BytesModel.PredictBatches(fixture.TestBytes, batchSize: 3).ToArray();   // 8 rows: 2 full batches and a partial one

        Assert.Equal(viaMlNet.Select(p => p.PredictedLabel), batched.Select(p => p.PredictedLabel));
        for (int i = 0; i < batched.Length; i++)
            for (int k = 0; k < batched[i].Score.Length; k++)
                Assert.Equal(viaMlNet[i].Score[k], batched[i].Score[k], 5);
    }

    [Fact]
    public void ModelSave_BytesModel_LoadInSameProcess_IdenticalPredictionsAndScores()
    {
        var ml = new MLContext(seed: 2).RegisterFineTuningImageRuntime();
        var loaded = ml.Model.Load(fixture.ModelZip, out _);

        var expected = Predict(fixture.Ml, fixture.BytesModel, fixture.TestBytes);
        var actual = Predict(ml, loaded, fixture.TestBytes);

        Assert.Equal(expected.Select(p => p.PredictedLabel), actual.Select(p => p.PredictedLabel));
        Assert.Equal(expected.Select(p => p.Score), actual.Select(p => p.Score));
        (loaded as IDisposable)?.Dispose();
    }

    [Fact]
    public void ModelSave_BytesModel_ScoredInProcessWithoutTorchSharp_SamePredictionsAndScoresWithin1e5()
    {
        var expected = Predict(fixture.Ml, fixture.BytesModel, fixture.TestBytes);

        var output = ScoringHost.Run(["--bytes", fixture.ModelZip, .. fixture.TestRows.Select(r => r.ImagePath)]);
        AssertHostAgrees(expected, [.. fixture.TestRows.Select(r => r.ImagePath)], output);
    }

    [Fact]
    public void ModelLoad_ContextWithoutTheImagesRuntimeRegistered_StillLoadsBecauseModelZipNamesTheMappingAssembly()
    {
        // ML.NET (since 1.5) stores each CustomMapping's assembly name in model.zip and registers that assembly
        // on Load: the images runtime must be deployed, its registration call is a safeguard (docs/raw-image-bytes.md).
        var ml = new MLContext(seed: 2).RegisterFineTuningRuntime();

        var loaded = ml.Model.Load(fixture.ModelZip, out _);

        var expected = Predict(fixture.Ml, fixture.BytesModel, fixture.TestBytes);
        Assert.Equal(expected.Select(p => p.Score), Predict(ml, loaded, fixture.TestBytes).Select(p => p.Score));
        (loaded as IDisposable)?.Dispose();
    }

    [Fact]
    public void Transform_CorruptBytes_ThrowsSayingTheBytesAreNotAnImage()
    {
        var ml = fixture.Ml;
        var garbage = ml.Data.LoadFromEnumerable(new[] { new BytesRow { Image = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 37 + 11))] } });

        var e = Assert.ThrowsAny<Exception>(() => Predict(ml, fixture.BytesModel, garbage));

        Assert.Contains("300 bytes that are not an image", e.ToString());
        Assert.Contains(DecodeImageMapping.ContractName, e.ToString());
    }

    private sealed class BytesRow
    {
        public byte[] Image { get; set; } = [];
        public string Label { get; set; } = "";
    }
}
