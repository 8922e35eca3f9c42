using System.Text.Json;
using Microsoft.ML;
using MLNet.FineTuning.Runtime;

// Scores images with a model.zip saved by MLNet.FineTuning, the way a service without TorchSharp would.
// Usage: MLNet.FineTuning.ScoringHost <model.zip> <image path>...
// Prints a JSON array: [{ "ImagePath": ..., "PredictedLabel": ..., "Score": [...] }, ...]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MLNet.FineTuning.ScoringHost <model.zip> <image path>...");
    return 2;
}

var ml = new MLContext(seed: 1).RegisterFineTuningRuntime();
var model = ml.Model.Load(args[0], out _);
var paths = ml.Data.LoadFromEnumerable(args.Skip(1).Select(p => new ImageInput { ImagePath = p }));
var images = ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageInput.ImagePath)).Fit(paths).Transform(paths);
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
