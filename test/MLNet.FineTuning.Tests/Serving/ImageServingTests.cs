using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Tests.Cli;

namespace MLNet.FineTuning.Tests.Serving;

/// <summary>
/// samples/OnnxServing on the model.onnx that `mlnet-finetune image` wrote, asked over HTTP with the test images'
/// files, against the run's model.zip scored in this process with ML.NET and the runtime package.
/// </summary>
[Collection(ImageToolRun.Collection)]
public sealed class ImageServingTests(ImageToolRun run)
{
    private List<string> TestImages => [.. Directory.GetFiles(run.Test, "*.png", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task Predict_EachTestImageAsRawBytes_SameLabelAndScoresAsTheModelZip()
    {
        Assert.True(run.Result.ExitCode == 0, run.Result.ToString());
        var images = TestImages;
        var expected = ModelZipScores(images);
        var service = run.Served();

        for (int i = 0; i < images.Count; i++)
        {
            var answer = await ServingAnswers.Post(service, RawImage(images[i]));
            ServingAnswers.AssertSame(expected[i], answer, images[i]);
        }
    }

    [Fact]
    public async Task Predict_MutatedImageFiles_AnswerAScoreOrA400_AndTheServiceLivesOn()
    {
        // 150 mutants (bit flips, cuts, overwritten runs) of a PNG, a JPEG and a WebP, as raw bodies: each is scored or
        // refused with a 400 that says why; never a 500, a hang or a dead service.
        var service = run.Served();
        var statuses = new Dictionary<HttpStatusCode, int>();
        foreach (var (name, bytes) in Runtime.MutatedImages.Make(150, seed: 13))
        {
            var content = new ByteArrayContent(bytes) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } };
            using var response = await service.Client.PostAsync("/predict", content);
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.BadRequest, $"{name}: {(int)response.StatusCode} {body}\n{service.Log}");
            if (response.StatusCode == HttpStatusCode.BadRequest) Assert.False(string.IsNullOrEmpty(JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()), name);
            statuses[response.StatusCode] = statuses.GetValueOrDefault(response.StatusCode) + 1;
        }
        Assert.True(statuses.GetValueOrDefault(HttpStatusCode.OK) > 10 && statuses.GetValueOrDefault(HttpStatusCode.BadRequest) > 10, string.Join(", ", statuses));
        Assert.True((await service.Client.GetAsync("/health")).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Predict_MultipartWithTwoImages_AnswersAListInTheirOrder()
    {
        var images = TestImages.Take(2).ToList();
        var expected = ModelZipScores(images);
        var form = new MultipartFormDataContent();
        foreach (var image in images) form.Add(RawImage(image), "image", Path.GetFileName(image));

        using var response = await run.Served().Client.PostAsync("/predict", form);
        string body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var answers = JsonDocument.Parse(body).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, answers.Count);
        for (int i = 0; i < 2; i++) ServingAnswers.AssertSame(expected[i], answers[i], images[i]);
    }

    [Theory]
    [InlineData("--batching", "true", "--max-batch", "16", "--max-wait-ms", "5")]
    [InlineData("--batching", "false")]
    public async Task Predict_64ConcurrentRequests_SameAnswersAs64Sequential(params string[] options)
    {
        var images = TestImages;
        var service = run.Served(options);
        var files = Enumerable.Range(0, 64).Select(i => images[i % images.Count]).ToList();

        var sequential = new List<JsonElement>();
        foreach (var f in files) sequential.Add(await ServingAnswers.Post(service, RawImage(f)));
        var concurrent = await Task.WhenAll(files.Select(f => ServingAnswers.Post(service, RawImage(f))));

        for (int i = 0; i < files.Count; i++)
        {
            Assert.Equal(sequential[i].GetProperty("label").GetString(), concurrent[i].GetProperty("label").GetString());
            foreach (var s in sequential[i].GetProperty("scores").EnumerateObject())
                Assert.Equal(s.Value.GetDouble(), concurrent[i].GetProperty("scores").GetProperty(s.Name).GetDouble(), 1e-4);
        }
        var batching = JsonDocument.Parse(await service.Client.GetStringAsync("/model")).RootElement.GetProperty("batching");
        if (batching.GetProperty("enabled").GetBoolean())
        {
            // 64 sequential requests take 64 calls; 64 concurrent ones must have shared some.
            long inputs = batching.GetProperty("inputsScored").GetInt64(), batches = batching.GetProperty("batchesRun").GetInt64();
            Assert.True(inputs >= 128 && batches < inputs, $"{inputs} inputs in {batches} batches");
        }
    }

    [Fact]
    public async Task Model_DescribesTheImageModel()
    {
        var json = JsonDocument.Parse(await run.Served().Client.GetStringAsync("/model")).RootElement;

        Assert.Equal("image", json.GetProperty("kind").GetString());
        Assert.Equal(["Bag", "Sneaker", "Trouser"], json.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).Order());
        Assert.Equal(32, json.GetProperty("inputSize").GetInt32());
        Assert.Equal(17, json.GetProperty("opset").GetInt32());
        Assert.Equal("CPU", json.GetProperty("executionProvider").GetString());
    }

    [Fact]
    public async Task Predict_BadRequests_AreRefusedWithAMessage_AndTheServiceGoesOn()
    {
        var service = run.Served();
        await ServingAnswers.AssertRefused(service, new ByteArrayContent("this is not a png"u8.ToArray()) { Headers = { ContentType = new("image/png") } },
            HttpStatusCode.BadRequest, "cannot be read");
        await ServingAnswers.AssertRefused(service, new ByteArrayContent([]) { Headers = { ContentType = new("image/png") } },
            HttpStatusCode.BadRequest, "empty");
        await ServingAnswers.AssertRefused(service, new ByteArrayContent(Runtime.HostileImages.PngDeclaring(20_000, 20_000)) { Headers = { ContentType = new("image/png") } },
            HttpStatusCode.BadRequest, "refused before decoding");
        var png = File.ReadAllBytes(TestImages[0]);
        await ServingAnswers.AssertRefused(service, new ByteArrayContent(png[..100]) { Headers = { ContentType = new("image/png") } },
            HttpStatusCode.BadRequest, "truncated");
        var noImageField = new MultipartFormDataContent { { RawImage(TestImages[0]), "picture", "a.png" } };
        await ServingAnswers.AssertRefused(service, noImageField, HttpStatusCode.BadRequest, "'image'");
        await ServingAnswers.AssertRefused(service, new StringContent("{\"text\":\"hello\"}", System.Text.Encoding.UTF8, "application/json"),
            HttpStatusCode.UnsupportedMediaType, "image model");

        var afterwards = await ServingAnswers.Post(service, RawImage(TestImages[0]));
        Assert.False(string.IsNullOrEmpty(afterwards.GetProperty("label").GetString()));
    }

    [Fact]
    public async Task Predict_BodyOverTheLimit_Is413()
    {
        var service = run.Served("--max-body-bytes", "100");
        await ServingAnswers.AssertRefused(service, RawImage(TestImages[0]), HttpStatusCode.RequestEntityTooLarge, "max-body-bytes");
    }

    [Fact]
    public void Start_WithoutAModel_FailsWithAMessageAndExitCode1()
    {
        var (exitCode, _, error) = ServingProcess.RunToFailure("--model", Path.Combine(run.Root, "no-such-folder"));
        Assert.Equal(1, exitCode);
        Assert.Contains("no-such-folder", error);
        Assert.DoesNotContain("   at ", error);   // a message, not a stack trace
    }

    [Fact]
    public void SampleOutput_HasNoTorchSharp()
    {
        string folder = Path.GetDirectoryName(ServingProcess.Dll)!;
        Assert.Empty(Directory.GetFiles(folder, "TorchSharp*.dll"));
        Assert.Empty(Directory.GetFiles(folder, "MLNet.FineTuning.dll"));
    }

    private static ByteArrayContent RawImage(string path) =>
        new(File.ReadAllBytes(path)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } };

    private List<(string Label, Dictionary<string, float> Scores)> ModelZipScores(IReadOnlyList<string> images)
    {
        var ml = new MLContext().RegisterFineTuningRuntime();
        var model = ml.Model.Load(Path.Combine(run.Output, "model.zip"), out _);
        return ServingAnswers.Expected(model, ml.Data.LoadFromEnumerable(images.Select(p => new ImageRow { ImagePath = p })));
    }

    private sealed class ImageRow
    {
        public string ImagePath { get; set; } = "";
    }
}
