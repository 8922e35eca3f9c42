using Google.Protobuf;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Onnx;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>ML.NET opens a real graph under a ".ort" name, as it does one time in 32,768 with its random temporary names,
/// and ONNX Runtime misreads it as its ORT format; <see cref="OrtFormatMisread"/> retries that failure and no other.</summary>
public class OrtFormatMisreadTests
{
    private sealed class Row
    {
        [ColumnName("x"), VectorType(2)]
        public float[] X { get; set; } = [];
    }

    private sealed class Scored
    {
        [ColumnName("y")]
        public float[] Y { get; set; } = [];
    }

    [Fact]
    public void Retry_FirstOpenMisreadAsOrtFormat_OpensAndScoresOnTheNextAttempt()
    {
        var folder = Directory.CreateTempSubdirectory("ort-misread-");
        string misread = WriteReluGraph(folder, "graph.ort"), onnx = WriteReluGraph(folder, "graph.onnx");
        int attempts = 0;

        var ml = new MLContext(1);
        var model = OrtFormatMisread.Retry(() => Fit(ml, ++attempts == 1 ? misread : onnx));

        Assert.Equal(2, attempts);
        var scored = ml.Data.CreateEnumerable<Scored>(model.Transform(Rows(ml)), reuseRowObject: false).Single();
        Assert.Equal([0f, 2f], scored.Y);   // Relu of (−1, 2)
        folder.Delete(recursive: true);
    }

    [Fact]
    public void Retry_MisreadEveryTime_SurfacesOnnxRuntimesFailureAfterThreeAttempts()
    {
        var folder = Directory.CreateTempSubdirectory("ort-misread-");
        string misread = WriteReluGraph(folder, "graph.ort");
        int attempts = 0;

        var ml = new MLContext(1);
        var e = Assert.ThrowsAny<Exception>(() => OrtFormatMisread.Retry(() => { attempts++; return Fit(ml, misread); }));

        Assert.Equal(OrtFormatMisread.Attempts, attempts);
        Assert.True(OrtFormatMisread.IsMisread(e), e.ToString());
        folder.Delete(recursive: true);
    }

    [Fact]
    public void Retry_DeletesTheMisreadCopy_AndNoOtherFile()
    {
        // What ML.NET's CreateFromBytes does: the graph's bytes under a random name in its temporary folder, opened by
        // ONNX Runtime; named ".ort", the open fails and ML.NET leaves the copy.
        var ml = new MLContext(1) { TempFilePath = Directory.CreateTempSubdirectory("ort-misread-").FullName };
        string onnx = WriteReluGraph(new DirectoryInfo(ml.TempFilePath), "graph.onnx");
        string older = Path.Combine(ml.TempFilePath, "k2ll0a4b.ort"), named = Path.Combine(ml.TempFilePath, "graph.ort");
        File.Copy(onnx, older);
        File.SetLastWriteTimeUtc(older, DateTime.UtcNow.AddHours(-1));   // another process's, from before the attempt
        File.Copy(onnx, named);                                          // a name ML.NET does not draw
        var copies = new List<string>();

        var model = OrtFormatMisread.Retry(() =>
        {
            string copy = Path.Combine(ml.TempFilePath, copies.Count == 0 ? "qx3v0abc.ort" : Path.ChangeExtension(Path.GetRandomFileName(), "onx"));
            File.Copy(onnx, copy);
            copies.Add(copy);
            return Fit(ml, copy);
        }, ml.TempFilePath);

        Assert.Equal(2, copies.Count);
        Assert.False(File.Exists(copies[0]), "the misread copy stays behind");
        Assert.True(File.Exists(copies[1]));   // the copy that opened is the model's (ML.NET deletes it on disposal)
        Assert.True(File.Exists(older));
        Assert.True(File.Exists(named));
        Assert.Single(ml.Data.CreateEnumerable<Scored>(model.Transform(Rows(ml)), reuseRowObject: false));
        Directory.Delete(ml.TempFilePath, recursive: true);
    }

    [Fact]
    public void Retry_GraphThatIsBroken_FailsAtOnceWithoutRetrying()
    {
        var folder = Directory.CreateTempSubdirectory("ort-misread-");
        string broken = Path.Combine(folder.FullName, "broken.onnx");
        File.WriteAllBytes(broken, [.. File.ReadAllBytes(WriteReluGraph(folder, "graph.onnx")).Take(20)]);
        int attempts = 0;

        var ml = new MLContext(1);
        var e = Assert.ThrowsAny<Exception>(() => OrtFormatMisread.Retry(() => { attempts++; return Fit(ml, broken); }));

        Assert.Equal(1, attempts);
        Assert.False(OrtFormatMisread.IsMisread(e), e.ToString());
        folder.Delete(recursive: true);
    }

    /// <summary>ML.NET's ApplyOnnxModel over the graph file as named: it opens an ONNX Runtime session on that path.</summary>
    private static ITransformer Fit(MLContext ml, string graphPath) => ml.Transforms.ApplyOnnxModel("y", "x", graphPath).Fit(Rows(ml));

    private static IDataView Rows(MLContext ml) => ml.Data.LoadFromEnumerable([new Row { X = [-1f, 2f] }]);

    /// <summary>y = Relu(x), x float [batch, 2], written by the library's ONNX writer.</summary>
    private static string WriteReluGraph(DirectoryInfo folder, string name)
    {
        var writer = new OnnxGraphWriter("relu");
        writer.AddOutput(writer.Relu(writer.AddInput("x", DataType.Float, "batch", 2), "y"), DataType.Float, "batch", 2);
        string path = Path.Combine(folder.FullName, name);
        File.WriteAllBytes(path, writer.ToModel().ToByteArray());
        return path;
    }
}
