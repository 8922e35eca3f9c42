using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.ML;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// Domain-adaptive pretraining measured on real data (issue 12 §4): MiniLM-L6 continues masked-language-model training
/// (<see cref="DomainAdaptation"/>, LoRA merged) on the short descriptions of the Debian package index, leaving out every
/// package whose source package is on the test side of debian-packages' split (and any text equal to a test text); then
/// <see cref="LoraTextClassifier"/> on the quality suite's CPU profile of debian-packages (1,000 training and test rows,
/// 3 epochs, batch 16, library defaults) with the original encoder and with the adapted folder, the same seeds. One JSON
/// line for the pretraining and one per classifier run.
///
///   dotnet run -c Release --project test/MLNet.FineTuning.Quality -- dapt [--seeds 1,2,3] [--corpus-cap 30000] [--dapt-epochs 1]
///       [--dapt-seed 1] [--full] [--folder artifacts/quality/dapt-minilm] [--reuse] [--results FILE]
/// </summary>
internal static class DaptSuite
{
    public static int Run(string repo, Func<string, string?> arg, bool reuse, bool full)
    {
        string data = Path.Combine(repo, "data", "suite", "text", "debian-packages");
        if (!File.Exists(Path.Combine(data, "train.tsv")))
            throw new FileNotFoundException($"'{data}' has no train.tsv: run eng/prepare-data.sh suite-text first.");
        var seeds = (arg("--seeds") ?? "1,2,3").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList();   // "--seeds ," pretrains only
        int cap = int.Parse(arg("--corpus-cap") ?? "30000"), epochs = int.Parse(arg("--dapt-epochs") ?? "1"), daptSeed = int.Parse(arg("--dapt-seed") ?? "1");
        string folder = arg("--folder") ?? Path.Combine(repo, "artifacts", "quality", "dapt-minilm");
        string results = arg("--results") ?? Path.Combine(repo, "artifacts", "quality", "dapt-cpu.jsonl");
        Directory.CreateDirectory(Path.GetDirectoryName(results)!);
        string date = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

        var probe = new MLContext(1);
        var trainRows = SuiteData.Texts(probe, data, "train", Profile.Cpu.TrainRows);
        var testRows = SuiteData.KnownClassesOnly(SuiteData.Texts(probe, data, "test", Profile.Cpu.TestRows), trainRows, r => r.Label, "debian-packages");

        if (!(reuse && File.Exists(Path.Combine(folder, "config.json"))))
        {
            // Every test text of the full split, not only the 1,000 sampled: none may be seen in pretraining.
            var testTexts = File.ReadLines(Path.Combine(repo, "data", "suite", "text", "debian-packages-full", "test.tsv")).Skip(1)
                .Select(l => l.Split('\t')[1]).ToHashSet(StringComparer.Ordinal);
            var corpus = Corpus(testTexts, cap);
            Console.WriteLine($"pretraining corpus: {corpus.Count} descriptions (cap {cap}), {epochs} epoch(s), seed {daptSeed}{(full ? ", full fine-tuning" : ", LoRA")}");
            var losses = new List<double>();
            var options = new DomainAdaptation.Options
            {
                Epochs = epochs, Seed = daptSeed, LogEveryNSteps = 50, MaxSequenceLength = 64,
                Progress = new Progress(p => { if (!p.IsEpochEnd) { losses.Add(p.TrainLoss); Console.WriteLine($"  step {p.Step}/{p.TotalSteps}: masked-token loss {p.TrainLoss:F3}, {p.SamplesPerSecond:F0} texts/s"); } }),
            };
            if (full) { options.FullFineTune = true; options.BackboneLearningRateFactor = 0.05; }
            var result = DomainAdaptation.Pretrain(new MLContext(daptSeed), corpus, folder, options);
            Console.WriteLine($"pretraining: {result.Duration.TotalSeconds:F0} s, loss {result.Epochs[0].TrainLoss:F3} (epoch 1) -> {result.Epochs[^1].TrainLoss:F3} (epoch {result.Epochs.Count}); folder {folder}");
            File.AppendAllLines(results, [JsonSerializer.Serialize(new
            {
                run = "dapt", encoder = PretrainedCatalog.MiniLmL6, texts = result.Texts, tokens = result.Tokens, epochs, seed = daptSeed,
                method = full ? "full" : "lora", trainable = result.TrainableParameters, seconds = Math.Round(result.Duration.TotalSeconds, 1),
                epochLoss = result.Epochs.Select(e => Math.Round(e.TrainLoss, 4)).ToArray(), windowLoss = losses.Select(l => Math.Round(l, 4)).ToArray(), date,
            })]);
        }
        foreach (int seed in seeds)
        foreach (var (name, encoder, path) in new[] { ("minilm-l6", PretrainedCatalog.MiniLmL6, (string?)null), ("dapt", PretrainedCatalog.BertFolder, folder) })
        {
            var ml = new MLContext(seed);
            var watch = Stopwatch.StartNew();
            using var model = ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.LoraTextClassifier(new LoraTextClassifier.Options
            {
                LabelColumnName = "Label", TextColumnName = "Text", Seed = seed, Encoder = encoder, EncoderPath = path,
                Epochs = Profile.Cpu.TextEpochs, BatchSize = Profile.Cpu.TextBatchSize, LogEveryNSteps = 1000,
            })).Fit(ml.Data.LoadFromEnumerable(trainRows));
            double fit = watch.Elapsed.TotalSeconds;
            var m = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(testRows)));
            Console.WriteLine($"  debian-packages {name,-9} seed {seed}: micro {m.MicroAccuracy:P1}, macro {m.MacroAccuracy:P1}, fit {fit:F0} s");
            File.AppendAllLines(results, [JsonSerializer.Serialize(new
            {
                run = "classify", dataset = "debian-packages", encoder = name, seed, trainRows = trainRows.Count, testRows = testRows.Count,
                micro = m.MicroAccuracy, macro = m.MacroAccuracy, fitSeconds = Math.Round(fit, 1), date,
            })]);
        }
        return 0;
    }

    /// <summary>Short descriptions of the bookworm main index, packages of test-side source packages and test texts left out,
    /// distinct, the first <paramref name="cap"/> in the order of the hash of their package name (a fixed, unbiased subset).</summary>
    private static List<string> Corpus(HashSet<string> testTexts, int cap)
    {
        var index = Directory.GetFiles("/var/lib/apt/lists", "*_dists_bookworm_main_binary-amd64_Packages*").FirstOrDefault()
            ?? throw new FileNotFoundException("No bookworm main Packages index under /var/lib/apt/lists (apt-get update).");
        var rows = new List<(string Package, string Text)>();
        foreach (var stanza in Stanzas(index))
        {
            if (!stanza.TryGetValue("Package", out var package) || !stanza.TryGetValue("Description", out var description)) continue;
            string source = stanza.TryGetValue("Source", out var s) ? s.Split(' ')[0] : package;
            string text = string.Join(' ', description.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
            if (IsTest(source) || testTexts.Contains(text) || text.Length == 0) continue;
            rows.Add((package, text));
        }
        return rows.OrderBy(r => Hash(r.Package)).ThenBy(r => r.Package, StringComparer.Ordinal).Select(r => r.Text)
                   .Distinct(StringComparer.Ordinal).Take(cap).ToList();
    }

    /// <summary>The split of eng/DataPrep (SuiteText.IsTest): test iff the first 8 bytes of SHA-256(source), big-endian, mod 10 &lt; 3.</summary>
    private static bool IsTest(string source) => Hash(source) % 10 < 3;

    private static ulong Hash(string key) => System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>The index's stanzas (the file is lz4-compressed: apt-helper cat-file decompresses it).</summary>
    private static IEnumerable<Dictionary<string, string>> Stanzas(string path)
    {
        var start = new ProcessStartInfo("/usr/lib/apt/apt-helper", ["cat-file", path]) { RedirectStandardOutput = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("apt-helper did not start.");
        var stanza = new Dictionary<string, string>(StringComparer.Ordinal);
        for (string? line = process.StandardOutput.ReadLine(); ; line = process.StandardOutput.ReadLine())
        {
            if (string.IsNullOrEmpty(line))
            {
                if (stanza.Count > 0) yield return stanza;
                stanza = new Dictionary<string, string>(StringComparer.Ordinal);
                if (line is null) break;
                continue;
            }
            if (line[0] is ' ' or '\t') continue;   // continuation lines (none for the short description)
            int colon = line.IndexOf(':');
            if (colon > 0) stanza[line[..colon]] = line[(colon + 1)..].Trim();
        }
        process.WaitForExit();
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
