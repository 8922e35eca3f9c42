// Fashion-MNIST image classification with ML.NET, on the subset committed under samples/data
// (2,000 training images, all 10,000 test images; see samples/data/README.md).
//
//   dotnet run -c Release --project samples/ImageClassification [-- --data <image-folder-root>]
//
// <image-folder-root> holds train/<class>/*.png and test/<class>/*.png (eng/prepare-data.sh writes the
// full 60,000-image set to data/fashion-mnist).
using System.Diagnostics;
using Microsoft.ML;
using MLNet.FineTuning.Data;

string dataRoot = ArgValue("--data") ?? Path.Combine(FindRepoRoot(), "samples", "data", "fashion-mnist");
var ml = new MLContext(seed: 1);
var train = ImageFolder.Load(ml, Path.Combine(dataRoot, "train"));
var test = ImageFolder.Load(ml, Path.Combine(dataRoot, "test"));
Console.WriteLine($"data: {dataRoot} (train {train.GetRowCount()}, test {test.GetRowCount()})");

// Baseline: what ML.NET alone does with the same split - SDCA maximum entropy on raw 28x28 pixels.
var sw = Stopwatch.StartNew();
var baseline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
    .Append(ml.Transforms.ResizeImages("Image", 28, 28))
    .Append(ml.Transforms.ConvertToGrayscale("Image"))
    .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
    .AppendCacheCheckpoint(ml)   // SDCA passes over the data many times: decode each PNG once
    .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var baselineModel = baseline.Fit(train);
var baselineMetrics = ml.MulticlassClassification.Evaluate(baselineModel.Transform(test));
Console.WriteLine($"ML.NET SDCA on raw pixels: accuracy {baselineMetrics.MicroAccuracy:P1} (macro {baselineMetrics.MacroAccuracy:P1}) in {sw.Elapsed.TotalSeconds:F0} s");
return 0;

string? ArgValue(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("Run from inside the repository, or pass --data <folder>.");
}
