// Serves a model.onnx exported by MLNet.FineTuning (SaveOnnx, or the output folder of mlnet-finetune) over HTTP with
// ASP.NET Core and ONNX Runtime, without TorchSharp or the training library:
//
//   dotnet run -c Release --project samples/OnnxServing -- --model <folder with model.onnx> --urls http://127.0.0.1:5000
//
//   POST /predict   image model: multipart/form-data (field 'image', one or more files) or a raw image/* body
//                   text model:  JSON {"text": "...", "text2": "..."} or an array of such objects
//                   answer: {"label": "...", "scores": {"<class>": p, ...}}, an array for several inputs
//   GET  /health    {"status": "ok"}
//   GET  /model     kind, classes, input size, opset, execution provider, batching
//
// Options (also as configuration keys Serving:<Name>): --batching true|false, --max-batch N, --max-wait-ms X,
// --queue-capacity N, --max-text-length N, --max-body-bytes N, --max-image-pixels N, --gpu ID. Concurrent requests are batched into one
// ONNX Runtime call: what queued while the previous call ran, at most --max-batch inputs, held --max-wait-ms more when positive.
using OnnxServing;

var switches = new Dictionary<string, string>
{
    ["--model"] = "Serving:Model", ["--batching"] = "Serving:Batching", ["--max-batch"] = "Serving:MaxBatch",
    ["--max-wait-ms"] = "Serving:MaxWaitMs", ["--queue-capacity"] = "Serving:QueueCapacity",
    ["--max-text-length"] = "Serving:MaxTextLength", ["--max-body-bytes"] = "Serving:MaxBodyBytes", ["--max-image-pixels"] = "Serving:MaxImagePixels", ["--gpu"] = "Serving:Gpu",
};
string[] hostSwitches = ["--urls", "--environment", "--contentRoot", "--applicationName"];
if (args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).Select(a => a.Split('=')[0])
        .FirstOrDefault(a => !switches.ContainsKey(a) && !hostSwitches.Contains(a, StringComparer.OrdinalIgnoreCase)) is { } unknown)
    return Fail($"Unknown option {unknown}. Options: {string.Join(", ", switches.Keys.Concat(hostSwitches))}.");

var builder = WebApplication.CreateBuilder(args);
builder.Configuration.AddCommandLine(args, switches);
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
var options = new ServingOptions();
try
{
    builder.Configuration.GetSection("Serving").Bind(options);
}
catch (InvalidOperationException e)
{
    return Fail($"A setting has a value of the wrong kind: {e.InnerException?.Message ?? e.Message}");
}
if (options.Problems() is { Count: > 0 } problems) return Fail(string.Join(" ", problems));
builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxBodyBytes);
MLNet.FineTuning.Runtime.Images.ImageLimits.MaxPixels = options.MaxImagePixels;

ServedModel model;
try
{
    model = new ServedModel(options);
}
catch (Exception e) when (e is FileNotFoundException or InvalidDataException or ArgumentException)
{
    return Fail(e.Message);
}

var app = builder.Build();
app.MapGet("/health", () => Results.Json(new { status = "ok" }));
app.MapGet("/model", () => Results.Json(ModelDescription.Of(model)));
app.MapPost("/predict", (HttpRequest request) => PredictEndpoint.Handle(request, model));
app.Lifetime.ApplicationStopped.Register(() => model.DisposeAsync().AsTask().GetAwaiter().GetResult());
app.Logger.LogInformation("Serving {Task} model {Path} ({Classes} classes) on {Provider}; batching {Batching}",
    model.Classifier.Task, model.Classifier.ModelPath, model.Classifier.ClassNames.Count, model.Classifier.ExecutionProvider,
    options.Batching ? $"up to {options.MaxBatch} inputs, {options.MaxWaitMs} ms" : "off");
await app.RunAsync();
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"OnnxServing: {message}");
    return 1;
}
