using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Tests.Cli;

namespace MLNet.FineTuning.Tests.Serving;

/// <summary>
/// samples/OnnxServing and <see cref="ExportedClassifier"/> on the model.onnx (+ vocab.txt, tokenizer_config.json) that
/// `mlnet-finetune text` wrote, against the run's model.zip scored in this process with ML.NET and the runtime package.
/// </summary>
[Collection(TextToolRun.Collection)]
public sealed class TextServingTests(TextToolRun run)
{
    private static readonly string[] Texts =
    [
        "Subject: cheap meds, no prescription needed. Click here to order now!",
        "Hi Bob, the meeting moved to 3pm tomorrow; the agenda is attached.",
        "Subject: Re: [SAtalk] razor and spamassassin 2.50 -- works fine here, see the config below",
        "URGENT!!! Your account has been selected. Reply with your bank details to claim $1,000,000.",
    ];

    [Fact]
    public void ExportedClassifier_OneBatchPaddedToTheLongest_EqualsTheModelZipWithin1e4()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        var expected = ModelZipScores(Texts);
        using var classifier = ExportedClassifier.Load(run.Output);

        var predictions = classifier.PredictTexts(Texts);

        Assert.Equal(ExportedModelContract.TextClassificationTask, classifier.Task);
        Assert.Equal(32, classifier.MaxSequenceLength);
        Assert.False(classifier.ReadsTextPairs);
        Assert.Throws<ArgumentException>(() => classifier.PredictTexts(Texts, Texts));   // second texts for a one-text model
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(expected[i].Label, predictions[i].Label);
            for (int c = 0; c < classifier.ClassNames.Count; c++)
                Assert.Equal(expected[i].Scores[classifier.ClassNames[c]], predictions[i].Scores[c], 1e-4);
        }
    }

    [Fact]
    public async Task Predict_OneTextAndAnArray_SameAsTheModelZip()
    {
        var expected = ModelZipScores(Texts);
        var service = run.Served();

        var one = await ServingAnswers.Post(service, Json(new { text = Texts[0] }));
        var many = await ServingAnswers.Post(service, Json(Texts.Select(t => new { text = t })));

        ServingAnswers.AssertSame(expected[0], one, Texts[0]);
        var answers = many.EnumerateArray().ToList();
        Assert.Equal(Texts.Length, answers.Count);
        for (int i = 0; i < Texts.Length; i++) ServingAnswers.AssertSame(expected[i], answers[i], Texts[i]);
    }

    [Fact]
    public async Task Predict_64ConcurrentRequests_SameAnswersAs64Sequential()
    {
        var service = run.Served("--max-batch", "8");
        var texts = Enumerable.Range(0, 64).Select(i => $"{Texts[i % Texts.Length]} ({i})").ToList();

        var sequential = new List<JsonElement>();
        foreach (var t in texts) sequential.Add(await ServingAnswers.Post(service, Json(new { text = t })));
        var concurrent = await Task.WhenAll(texts.Select(t => ServingAnswers.Post(service, Json(new { text = t }))));

        for (int i = 0; i < texts.Count; i++)
        {
            Assert.Equal(sequential[i].GetProperty("label").GetString(), concurrent[i].GetProperty("label").GetString());
            foreach (var s in sequential[i].GetProperty("scores").EnumerateObject())
                Assert.Equal(s.Value.GetDouble(), concurrent[i].GetProperty("scores").GetProperty(s.Name).GetDouble(), 1e-4);
        }
    }

    [Fact]
    public async Task Predict_BadRequests_AreRefusedWithAMessage()
    {
        var service = run.Served("--max-text-length", "50");
        await ServingAnswers.AssertRefused(service, Json(new { message = "hello" }), HttpStatusCode.BadRequest, "no \"text\" field");
        await ServingAnswers.AssertRefused(service, Json(new { text = "   " }), HttpStatusCode.BadRequest, "empty");
        await ServingAnswers.AssertRefused(service, Json(new { text = new string('a', 51) }), HttpStatusCode.BadRequest, "at most 50");
        await ServingAnswers.AssertRefused(service, Json(new { text = 3 }), HttpStatusCode.BadRequest, "must be a string");
        await ServingAnswers.AssertRefused(service, Json(new { text = "hello", text2 = "world" }), HttpStatusCode.BadRequest, "trained on single texts");
        await ServingAnswers.AssertRefused(service, Json(Array.Empty<object>()), HttpStatusCode.BadRequest, "empty");
        await ServingAnswers.AssertRefused(service, new StringContent("{\"text\": ", Encoding.UTF8, "application/json"), HttpStatusCode.BadRequest, "not valid JSON");
        await ServingAnswers.AssertRefused(service, new StringContent("hello", Encoding.UTF8, "text/plain"), HttpStatusCode.UnsupportedMediaType, "text model");

        var json = JsonDocument.Parse(await service.Client.GetStringAsync("/model")).RootElement;
        Assert.Equal("text", json.GetProperty("kind").GetString());
        Assert.Equal(32, json.GetProperty("maxSequenceLength").GetInt32());
    }

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private List<(string Label, Dictionary<string, float> Scores)> ModelZipScores(IReadOnlyList<string> texts)
    {
        var ml = new MLContext().RegisterFineTuningRuntime();
        var model = ml.Model.Load(Path.Combine(run.Output, "model.zip"), out _);
        return ServingAnswers.Expected(model, ml.Data.LoadFromEnumerable(texts.Select(t => new TextRow { Text = t })));
    }

    private sealed class TextRow
    {
        public string Text { get; set; } = "";
    }
}
