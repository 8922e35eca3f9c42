using System.Net;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Serving;

/// <summary>Requests to the sample service and the checks of its answers that the image and text tests share.</summary>
internal static class ServingAnswers
{
    /// <summary>POSTs to /predict and returns the JSON answer, failing on any status but 200.</summary>
    public static async Task<JsonElement> Post(ServingProcess service, HttpContent content)
    {
        using var response = await service.Client.PostAsync("/predict", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}\n{service.Log}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The request is answered <paramref name="status"/> with <c>{"error": ...}</c> containing <paramref name="says"/>.</summary>
    public static async Task AssertRefused(ServingProcess service, HttpContent content, HttpStatusCode status, string says)
    {
        using var response = await service.Client.PostAsync("/predict", content);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        string error = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
        Assert.Contains(says, error);
    }

    /// <summary>Label and class scores of each input row, scored by a model.zip (PredictedLabel as text, Score in the key
    /// order of the label; the key values are read from the chain before its last step, which turns the key into text).</summary>
    public static List<(string Label, Dictionary<string, float> Scores)> Expected(ITransformer model, IDataView rows)
    {
        var chain = (TransformerChain<ITransformer>)model;
        var beforeLast = new TransformerChain<ITransformer>([.. chain.Take(chain.Count() - 1)]);
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        beforeLast.GetOutputSchema(rows.Schema)["PredictedLabel"].GetKeyValues(ref names);
        var classes = names.DenseValues().Select(n => n.ToString()).ToList();
        var scored = model.Transform(rows);
        var labels = scored.GetColumn<ReadOnlyMemory<char>>("PredictedLabel").Select(l => l.ToString()).ToList();
        var scores = scored.GetColumn<float[]>("Score").ToList();
        return [.. labels.Select((l, i) => (l, classes.Select((c, j) => (c, j)).ToDictionary(x => x.c, x => scores[i][x.j])))];
    }

    /// <summary>Same label, and every class's score within 1e-4.</summary>
    public static void AssertSame((string Label, Dictionary<string, float> Scores) expected, JsonElement answer, string input)
    {
        Assert.True(expected.Label == answer.GetProperty("label").GetString(), $"{input}: label {answer.GetProperty("label")} instead of {expected.Label}");
        var scores = answer.GetProperty("scores");
        Assert.Equal(expected.Scores.Count, scores.EnumerateObject().Count());
        foreach (var (name, p) in expected.Scores)
            Assert.True(Math.Abs(p - scores.GetProperty(name).GetDouble()) <= 1e-4, $"{input}: score of {name} {scores.GetProperty(name)} instead of {p}");
    }
}
