using Microsoft.ML;
using MLNet.FineTuning.Training;
using static MLNet.FineTuning.Benchmarks.CommandArgs;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- leak`: resident memory over a long run of both estimators (issue 11: "flat over e.g. 2,000 steps on tiny
/// data"), each through <see cref="LeakCheck"/>: the image classifier (ResNet-18, 32 px, batch 8) and the text
/// classifier (MiniLM-L6 with the default LoRA on every linear layer, 64 tokens, batch 8), on a few rows repeated
/// over many epochs so that every per-epoch path (shuffles, producer tasks, epoch ends) repeats too.
/// </summary>
internal static class LongRunMemory
{
    public const string Usage = "leak [--steps 2000] [--kinds image,text]";

    public static int Run(string[] args, string repoRoot, string command)
    {
        int steps = Int(args, "--steps", 2000);
        var kinds = (Value(args, "--kinds") ?? "image,text").Split(',');
        Console.WriteLine($"Long-run memory, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {steps} steps each");
        Console.WriteLine($"  {command}");
        var rows = new List<string>();
        var ml = new MLContext(seed: 1);
        if (kinds.Contains("image"))
        {
            var data = BenchmarkData.Load(ml, Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), 64, 32);
            rows.Add(Print("image: ResNet-18, 32 px, batch 8, 64 images", LeakCheck.Run(ml, data, steps, 32, 8, TrainingPrecision.Auto)));
        }
        if (kinds.Contains("text"))
        {
            const int texts = 64, batch = 8;
            var raw = ml.Data.LoadFromEnumerable(TextBenchmark.LoadRows(Path.Combine(repoRoot, "samples", "data", "spam-assassin", "train.tsv"), texts));
            var view = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
            var result = LeakCheck.Run(steps, FitBenchmark.ImagesPerStep(texts, batch).Length, (progress, epochs, stop) =>
            {
                var options = new LoraTextClassifier.Options
                {
                    Epochs = epochs, BatchSize = batch, MaxSequenceLength = 64, LogEveryNSteps = 1, Progress = progress, CancellationToken = stop,
                };
                new LoraTextClassifier(ml, options).Fit(view).Dispose();
            });
            rows.Add(Print($"text: MiniLM-L6 + LoRA (every linear layer), 64 tokens, batch {batch}, {texts} e-mails", result));
        }
        Console.WriteLine("\n== summary ==\n| run | steps | RSS as running, step a → end | growth / 100 steps as running | held after clean-up, per 100 steps | managed, per 100 steps |\n|---|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    static string Print(string what, LeakResult r)
    {
        Console.WriteLine($"\n{what}: RSS (MiB) by step {r.Trace}");
        Console.WriteLine($"  growth per 100 steps: as running {r.RunningGrowthPer100Steps:+0.0;-0.0} MiB, held {r.HeldGrowthPer100Steps:+0.0;-0.0} MiB, managed {r.ManagedGrowthPer100Steps:+0.0;-0.0} MiB ({r.Seconds:F0} s)");
        return $"| {what} | {r.Steps} | {r.RunningFrom.Resident:F0} → {r.EndRunning.Resident:F0} MiB (from step {r.RunningFromStep}) | {r.RunningGrowthPer100Steps:+0.0;-0.0} MiB | " +
               $"{r.HeldGrowthPer100Steps:+0.0;-0.0} MiB ({r.Baseline.Resident:F0} → {r.EndCleaned.Resident:F0}) | {r.ManagedGrowthPer100Steps:+0.0;-0.0} MiB |";
    }
}
