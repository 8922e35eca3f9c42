using System.Diagnostics;
using Microsoft.ML;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Tests.Pretrained;
using static MLNet.FineTuning.Tests.Images.ImagePredictions;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>mlContext.Model.Save/Load in this process and in a service-like process without TorchSharp; SaveOnnx failures.</summary>
[Collection(ThreeClassModelCollection.Name)]
public class FineTuneImageClassifierPersistenceTests(ThreeClassModel fixture)
{
    private const int Rows = 12;

    [Fact]
    public void ModelSave_LoadInSameProcess_IdenticalPredictionsAndScores()
    {
        string zip = fixture.ModelZip;
        var data = fixture.Ml.Data.TakeRows(fixture.Test, Rows);

        var ml = new MLContext(seed: 2).RegisterFineTuningRuntime();
        var loaded = ml.Model.Load(zip, out _);

        var expected = Predict(fixture.Ml, fixture.Model, data);
        var actual = Predict(ml, loaded, data);
        Assert.Equal(expected.Select(p => p.PredictedLabel), actual.Select(p => p.PredictedLabel));
        Assert.Equal(expected.Select(p => p.Score), actual.Select(p => p.Score));
        (loaded as IDisposable)?.Dispose();
    }

    [Fact]
    public void ModelSave_ScoredInProcessWithoutTorchSharp_SamePredictionsAndScoresWithin1e5()
    {
        string zip = fixture.ModelZip;
        var rows = fixture.TestRows.Where((_, i) => i % 10 == 0).ToArray();   // a dozen, every class
        var expected = Predict(fixture.Ml, fixture.Model, TestData.Load(fixture.Ml, rows));

        var output = ScoringHost.Run([zip, .. rows.Select(r => r.ImagePath)]);
        AssertHostAgrees(expected, [.. rows.Select(r => r.ImagePath)], output);
    }

    [Fact]
    public void ScoringHost_OutputFolder_HasNoTorchSharpOrTrainingLibrary()
    {
        var folder = Path.GetDirectoryName(ScoringHost.Dll)!;

        Assert.True(File.Exists(Path.Combine(folder, "MLNet.FineTuning.Runtime.dll")));
        Assert.True(File.Exists(Path.Combine(folder, "MLNet.FineTuning.Runtime.Images.dll")));
        Assert.Empty(Directory.GetFiles(folder, "TorchSharp*.dll", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(folder, "*LibTorchSharp*", SearchOption.AllDirectories));
        Assert.False(File.Exists(Path.Combine(folder, "MLNet.FineTuning.dll")));
    }

    [Fact]
    public void SaveOnnx_FolderPartIsAFile_ThrowsIOExceptionNamingPathAndLeavesNothing()
    {
        // Running as root defeats permission bits, so the path is made unwritable another way: one of its
        // folders is a file.
        using var dir = new TempDirectory();
        string blocker = dir.File("not-a-folder");
        File.WriteAllText(blocker, "x");
        string path = Path.Combine(blocker, "classifier.onnx");

        var e = Assert.ThrowsAny<IOException>(() => fixture.Model.SaveOnnx(path));

        Assert.Contains(path, e.Message);
        Assert.Equal([blocker], Directory.GetFileSystemEntries(dir.Path));
        Assert.Equal("x", File.ReadAllText(blocker));
    }

    [Fact]
    public void SaveOnnx_PathIsAFolder_ThrowsIOExceptionNamingPathAndLeavesNothing()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.onnx");
        Directory.CreateDirectory(path);

        var e = Assert.ThrowsAny<IOException>(() => fixture.Model.SaveOnnx(path));

        Assert.Contains(path, e.Message);
        Assert.Equal([path], Directory.GetFileSystemEntries(dir.Path));
        Assert.Empty(Directory.GetFileSystemEntries(path));
    }
}
