using System.Text.Json.Serialization;
using MLNet.FineTuning.Runtime.Onnx;

namespace OnnxServing;

/// <summary><c>POST /predict</c>: read the inputs, score them (batched with other requests' inputs), answer one object
/// per input. Bad input is answered 4xx with <c>{"error": "..."}</c>, never 500.</summary>
public static class PredictEndpoint
{
    public static async Task<IResult> Handle(HttpRequest request, ServedModel model)
    {
        try
        {
            if (request.ContentLength > model.Options.MaxBodyBytes)
                throw new RequestError(413, $"The request body has {request.ContentLength:N0} bytes; this service accepts at most {model.Options.MaxBodyBytes:N0} (--max-body-bytes).");
            Task<ClassPrediction[]>? scoring;
            bool many;
            if (model.Classifier.IsImageModel)
            {
                var (pixels, list) = await PredictRequest.ReadImages(request, model);
                (scoring, many) = (model.Predict(pixels), list);
            }
            else
            {
                var (texts, list) = await PredictRequest.ReadTexts(request, model);
                (scoring, many) = (model.Predict(texts), list);
            }
            if (scoring is null)
                return Results.Json(new { error = "The service is busy: its queue is full. Retry shortly." }, statusCode: StatusCodes.Status503ServiceUnavailable);
            var answers = (await scoring).Select(p => Answer(p, model.Classifier)).ToList();
            return many ? Results.Json(answers) : Results.Json(answers[0]);
        }
        catch (RequestError e)
        {
            return Results.Json(new { error = e.Message }, statusCode: e.Status);
        }
    }

    /// <summary>A classifier's answer: the label and every class's probability, classes in the model's order; a multi-label
    /// model adds the labels at or over their thresholds; a regressor answers the number as <c>value</c> alone.</summary>
    public sealed record Prediction(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Label,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, float>? Scores)
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public IReadOnlyList<string>? Labels { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public float? Value { get; init; }
    }

    private static Prediction Answer(ClassPrediction p, ExportedClassifier model) =>
        model.IsRegression ? new(null, null) { Value = p.Value }
        : new(p.Label, model.ClassNames.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => p.Scores[x.i]))
        {
            Labels = model.IsMultiLabel ? p.Labels : null,
        };
}

/// <summary>What <c>GET /model</c> answers.</summary>
public sealed record ModelDescription(string Kind, string Task, IReadOnlyList<string> Classes, int? InputSize, int? MaxSequenceLength,
    int Opset, string ExecutionProvider, object Batching)
{
    public static ModelDescription Of(ServedModel model)
    {
        var c = model.Classifier;
        return new(c.IsImageModel ? "image" : "text", c.Task, c.ClassNames, c.IsImageModel ? c.ImageSize : null,
            c.IsImageModel ? null : c.MaxSequenceLength, c.Opset, c.ExecutionProvider,
            new
            {
                enabled = model.Options.Batching, maxBatch = model.Options.MaxBatch, maxWaitMs = model.Options.MaxWaitMs,
                inputsScored = model.Batched?.Inputs, batchesRun = model.Batched?.Batches,
            });
    }
}
