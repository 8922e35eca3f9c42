// Fine-tunes ML.NET's own ImageNet ResNet-18 on Fashion-MNIST inside an ML.NET pipeline, prints its accuracy
// beside an ML.NET-only baseline on the same split, and saves model.zip (ML.NET) and model.onnx (services).
//
//   dotnet run -c Release --project samples/ImageClassification [-- options]
//     --data <folder>      image-folder root with train/<class>/*.png and test/<class>/*.png
//                          (default: samples/data/fashion-mnist, the committed 5,000 + 10,000 images;
//                          eng/prepare-data.sh writes the full 60,000-image set to data/fashion-mnist)
//     --epochs N --image-size S --batch-size B --gpu ID   (the CPU's choices: 5 epochs at 64 px by default)
//     --lr X --backbone-lr-factor F --augmentation none|light|strong   (default: the library's, chosen on the
//                          quality suite, docs/quality.md)
//     --precision auto|float32|bfloat16   (auto: bf16 mixed precision on a GPU, fp32 on the CPU)
//     --seed N             the training's random draws (default 1)
//     --out <folder>       where model.zip and model.onnx go (default: ./artifacts/image-classification)
//     --no-baseline        skip the ML.NET-only baseline; --baseline-only: only the baseline
using System.Diagnostics;
using Microsoft.ML;
using MLNet.FineTuning;
using MLNet.FineTuning.Data;

string dataRoot = Arg("--data") ?? Path.Combine(FindRepoRoot(), "samples", "data", "fashion-mnist");
string outDir = Arg("--out") ?? Path.Combine(FindRepoRoot(), "artifacts", "image-classification");
var ml = new MLContext(seed: 1);
if (Arg("--gpu") is string gpu)
{
    ml.GpuDeviceId = int.Parse(gpu);
    // Training needs TorchSharp's CUDA backend; scoring uses ONNX Runtime's CUDA provider when its native package
    // is there and its CPU provider otherwise. The training log line "trainable parameters ... on cuda:N" shows
    // where the gradient work ran.
    ml.FallbackToCpu = true;
    if (!TorchSharp.torch.cuda.is_available())
    {
        Console.Error.WriteLine("--gpu: TorchSharp sees no CUDA device (is the CUDA backend referenced?); training would run on the CPU.");
        return 3;
    }
}
ml.Log += (_, e) => { if (e.Source == nameof(FineTuneImageClassifier) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) Console.WriteLine($"  {e.RawMessage}"); };

var train = ImageFolder.Load(ml, Path.Combine(dataRoot, "train"));
var test = ImageFolder.Load(ml, Path.Combine(dataRoot, "test"));
Console.WriteLine($"data: {dataRoot} (train {train.GetRowCount()}, test {test.GetRowCount()} images)");

var options = new FineTuneImageClassifier.Options
{
    LabelColumnName = "Label",
    ImageColumnName = "Image",
    ImageSize = int.Parse(Arg("--image-size") ?? "64"),      // 64 px: the CPU setting (224 on a GPU)
    Epochs = int.Parse(Arg("--epochs") ?? "5"),   // 5 × 5,000 rows: inside 6 minutes on 2 cores (more rows beat more epochs, docs/quality.md)
    BatchSize = int.Parse(Arg("--batch-size") ?? "32"),
    LogEveryNSteps = 20,
    // auto: bf16 mixed precision on a GPU, fp32 on the CPU
    Precision = Enum.Parse<MLNet.FineTuning.Training.TrainingPrecision>(Arg("--precision") ?? "auto", ignoreCase: true),
};
// Everything else keeps the library's defaults; these flags only exist to try other settings.
if (Arg("--seed") is string seed) options.Seed = int.Parse(seed);   // the training's draws (init, order, augmentation, dropout)
if (Arg("--lr") is string lr) options.LearningRate = double.Parse(lr);
if (Arg("--backbone-lr-factor") is string factor) options.BackboneLearningRateFactor = double.Parse(factor);
if (Arg("--augmentation") is string augmentation) options.Augmentation = Enum.Parse<ImageAugmentationPolicy>(augmentation, ignoreCase: true);
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
    .Append(ml.MulticlassClassification.Trainers.FineTuneImageClassifier(options))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));

var sw = Stopwatch.StartNew();
if (!args.Contains("--baseline-only")) FineTune();

if (!args.Contains("--no-baseline"))
{
    // Baseline: what ML.NET alone does with the same split - SDCA maximum entropy on raw 28x28 pixels.
    sw.Restart();
    var baseline = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
        .Append(ml.Transforms.ResizeImages("Image", 28, 28))
        .Append(ml.Transforms.ConvertToGrayscale("Image"))
        .Append(ml.Transforms.ExtractPixels("Features", "Image", scaleImage: 1f / 255))
        .AppendCacheCheckpoint(ml)   // SDCA passes over the data many times: decode each PNG once
        .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    var baselineMetrics = ml.MulticlassClassification.Evaluate(baseline.Fit(train).Transform(test));
    Console.WriteLine($"ML.NET baseline, SDCA on raw pixels: accuracy {baselineMetrics.MicroAccuracy:P1} (macro {baselineMetrics.MacroAccuracy:P1}) in {sw.Elapsed.TotalSeconds:F0} s");
}
return 0;

void FineTune()
{
    sw.Restart();
    using var model = pipeline.Fit(train);   // disposing deletes the model's temporary copy of its ONNX graph
    double fitSeconds = sw.Elapsed.TotalSeconds;
    sw.Restart();
    var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
    double evalSeconds = sw.Elapsed.TotalSeconds;
    Console.WriteLine($"FineTuneImageClassifier (resnet18-mlnet, {options.ImageSize} px, {options.Epochs} epochs): " +
                      $"accuracy {metrics.MicroAccuracy:P1} (macro {metrics.MacroAccuracy:P1}); fit {fitSeconds:F0} s, evaluation {evalSeconds:F0} s");

    Directory.CreateDirectory(outDir);
    ml.Model.Save(model, train.Schema, Path.Combine(outDir, "model.zip"));
    var classifier = model.OfType<FineTuneImageClassifierTransformer>().Single();
    classifier.SaveOnnx(Path.Combine(outDir, "model.onnx"));
    Console.WriteLine($"saved {Path.Combine(outDir, "model.zip")} and model.onnx");
}

string? Arg(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string FindRepoRoot()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "MLNet.FineTuning.sln"))) return d.FullName;
    throw new DirectoryNotFoundException("Run from inside the repository, or pass --data <folder> --out <folder>.");
}
