using System.Text.Json;
using Microsoft.ML;

namespace MLNet.FineTuning.Tests.Images;

/// <summary>What the image persistence tests read back: predictions through ML.NET in this process, and the same
/// rows scored by test/MLNet.FineTuning.ScoringHost in a process without TorchSharp.</summary>
internal static class ImagePredictions
{
    public sealed class Prediction
    {
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    public sealed class HostPrediction
    {
        public string ImagePath { get; set; } = "";
        public string PredictedLabel { get; set; } = "";
        public float[] Score { get; set; } = [];
    }

    /// <summary>Scores <paramref name="data"/> and maps the predicted key back to its label.</summary>
    public static Prediction[] Predict(MLContext ml, ITransformer model, IDataView data)
    {
        var scored = model.Transform(data);
        var labelled = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored).Transform(scored);
        return ml.Data.CreateEnumerable<Prediction>(labelled, reuseRowObject: false).ToArray();
    }

    /// <summary>The host's JSON output: one prediction per image path, in order, with the same labels as
    /// <paramref name="expected"/> and scores within 1e-5.</summary>
    public static void AssertHostAgrees(Prediction[] expected, IReadOnlyList<string> imagePaths, string hostOutput)
    {
        var actual = JsonSerializer.Deserialize<HostPrediction[]>(hostOutput)!;
        Assert.Equal(imagePaths, actual.Select(p => p.ImagePath));
        Assert.Equal(expected.Select(p => p.PredictedLabel), actual.Select(p => p.PredictedLabel));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Score.Length, actual[i].Score.Length);
            for (int k = 0; k < expected[i].Score.Length; k++)
                Assert.Equal(expected[i].Score[k], actual[i].Score[k], 1e-5f);
        }
    }
}
