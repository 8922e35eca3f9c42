using System.Text.Json;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>`predict` on a run's model.onnx (ONNX Runtime and the runtime package alone) against `predict` on its
/// model.zip (ML.NET): the same inputs, labels and top scores.</summary>
internal static class PredictAnswers
{
    public static void AssertOnnxMatchesZip(string output, string input)
    {
        var zip = Tool.Run("predict", "--model", Path.Combine(output, "model.zip"), "--input", input, "--json", "--top", "3");
        var onnx = Tool.Run("predict", "--model", Path.Combine(output, "model.onnx"), "--input", input, "--json", "--top", "3");
        Assert.True(zip.ExitCode == 0, zip.ToString());
        Assert.True(onnx.ExitCode == 0, onnx.ToString());
        var expected = JsonDocument.Parse(zip.Output).RootElement.EnumerateArray().ToList();
        var actual = JsonDocument.Parse(onnx.Output).RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].GetProperty("input").GetString(), actual[i].GetProperty("input").GetString());
            Assert.Equal(expected[i].GetProperty("label").GetString(), actual[i].GetProperty("label").GetString());
            foreach (var s in expected[i].GetProperty("scores").EnumerateObject())
                Assert.Equal(s.Value.GetDouble(), actual[i].GetProperty("scores").GetProperty(s.Name).GetDouble(), 1e-4);
        }
    }
}
