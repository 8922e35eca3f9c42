using System.Text.Json;
using Microsoft.ML;
using MLNet.FineTuning.Runtime;

// Scores images or texts with a model.zip saved by MLNet.FineTuning, the way a service without TorchSharp would.
// Usage: MLNet.FineTuning.ScoringHost <model.zip> <image path>...          (images decoded by LoadImages)
//        MLNet.FineTuning.ScoringHost --bytes <model.zip> <image path>...  (encoded bytes from LoadRawImageBytes)
//        MLNet.FineTuning.ScoringHost --text <model.zip> <text>...          (the model's text column is "Text")
// Prints a JSON array: [{ "ImagePath" or "Text": ..., "PredictedLabel": ..., "Score": [...] }, ...]
string mode = args.Length > 0 && args[0] is "--text" or "--bytes" ? args[0] : "";
if (mode != "") args = args[1..];
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MLNet.FineTuning.ScoringHost [--text | --bytes] <model.zip> <image path or text>...");
    return 2;
}

// As the README tells a service: models trained on encoded bytes carry the images runtime's decoding step, so they
// register it (RegisterFineTuningImageRuntime covers both packages); the others need the runtime package only.
var ml = new MLContext(seed: 1);
if (mode == "--bytes") ml.RegisterFineTuningImageRuntime(); else ml.RegisterFineTuningRuntime();
var model = ml.Model.Load(args[0], out _);
using var loaded = model as IDisposable;   // as a service does at shutdown: ML.NET's copy of the graph goes with it
bool text = mode == "--text";
if (text)
{
    var texts = ml.Data.LoadFromEnumerable(args.Skip(1).Select(t => new TextInput { Text = t }));
    var scoredTexts = model.Transform(texts);
    var labelledTexts = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scoredTexts).Transform(scoredTexts);
    Console.WriteLine(JsonSerializer.Serialize(ml.Data.CreateEnumerable<TextPrediction>(labelledTexts, reuseRowObject: false).ToList()));
    return 0;
}
var paths = ml.Data.LoadFromEnumerable(args.Skip(1).Select(p => new ImageInput { ImagePath = p }));
var load = mode == "--bytes"
    ? ml.Transforms.LoadRawImageBytes("Image", imageFolder: null, inputColumnName: nameof(ImageInput.ImagePath))
    : (IEstimator<ITransformer>)ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageInput.ImagePath));
var images = load.Fit(paths).Transform(paths);
var scored = model.Transform(images);
var labelled = ml.Transforms.Conversion.MapKeyToValue("PredictedLabel").Fit(scored).Transform(scored);
var predictions = ml.Data.CreateEnumerable<Prediction>(labelled, reuseRowObject: false).ToList();
Console.WriteLine(JsonSerializer.Serialize(predictions));
return 0;

internal sealed class ImageInput
{
    public string ImagePath { get; set; } = "";
}

internal sealed class Prediction
{
    public string ImagePath { get; set; } = "";
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}

internal sealed class TextInput
{
    public string Text { get; set; } = "";
    // A saved pipeline that starts with MapValueToKey("Label") needs the column; unknown values map to a missing key.
    public string Label { get; set; } = "";
}

internal sealed class TextPrediction
{
    public string Text { get; set; } = "";
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
