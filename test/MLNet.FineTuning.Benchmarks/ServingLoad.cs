using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Testing;
using static MLNet.FineTuning.Benchmarks.CommandArgs;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- serve`: requests/s and p50/p99 latency of samples/OnnxServing at several concurrencies, with batching on and
/// off (the peer), each service alone on the machine in turn. The model is an image classifier fitted here for one
/// epoch on a few Fashion-MNIST images (throughput does not depend on how well it was trained) and exported with
/// SaveOnnx; clients POST the PNG files as raw image/png bodies, so each request pays decoding and resizing too.
/// The load generator runs on the same cores as the service.
/// </summary>
internal static class ServingLoad
{
    public const string Usage = "serve [--image-size 64] [--seconds 10] [--concurrency 1,8,64] [--max-batch 32] [--max-wait-ms 0] [--model <folder with model.onnx>]";

    public static int Run(string[] args, string repoRoot, string command)
    {
        int imageSize = Int(args, "--image-size", 64), seconds = Int(args, "--seconds", 10), maxBatch = Int(args, "--max-batch", 32);
        string maxWait = Value(args, "--max-wait-ms") ?? "0";
        int[] concurrency = (Value(args, "--concurrency") ?? "1,8,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        string images = Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "test");
        var bodies = ImageFolder.List(images).Take(64).Select(r => File.ReadAllBytes(r.ImagePath)).ToArray();
        using var temp = new TempFolder();
        string model = Value(args, "--model") ?? ExportSmallModel(Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), imageSize, temp.Path);
        string dll = ServiceDll(repoRoot);

        Console.WriteLine($"OnnxServing load, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load average {LoadAverage()}");
        Console.WriteLine($"  {command}");
        Console.WriteLine($"  model {model} ({imageSize} px ResNet-18 image classifier), {bodies.Length} PNG files cycled, {seconds} s per cell after 2 s of warm-up");
        var rows = new List<string>();
        foreach (bool batching in new[] { true, false })
        {
            string[] options = batching ? ["--batching", "true", "--max-batch", maxBatch.ToString(CultureInfo.InvariantCulture), "--max-wait-ms", maxWait] : ["--batching", "false"];
            using var service = new LocalService(address => ServiceStart(dll, ["--model", model, "--urls", address.ToString(), .. options]),
                line => Console.Error.WriteLine($"  [service] {line}"));
            foreach (int c in concurrency)
            {
                Load(service.Client, bodies, c, TimeSpan.FromSeconds(2));   // warm-up: sessions, JIT, thread pool
                var (count, latencies) = Load(service.Client, bodies, c, TimeSpan.FromSeconds(seconds));
                string row = $"| {(batching ? $"on (≤ {maxBatch}, {maxWait} ms)" : "off")} | {c} | {count / (double)seconds:F1} | {Percentile(latencies, 0.5):F1} | {Percentile(latencies, 0.99):F1} |";
                Console.WriteLine(row);
                rows.Add(row);
            }
        }
        Console.WriteLine($"\n== summary (load average {LoadAverage()} at the end) ==\n| batching | concurrency | requests/s | p50 ms | p99 ms |\n|---|---|---|---|---|");
        foreach (var row in rows) Console.WriteLine(row);
        return 0;
    }

    /// <summary><paramref name="concurrency"/> clients POST one image after another for <paramref name="duration"/>;
    /// returns the requests answered and their latencies in ms.</summary>
    static (int Count, List<double> Latencies) Load(HttpClient client, byte[][] bodies, int concurrency, TimeSpan duration)
    {
        var latencies = new List<double>();
        var end = DateTime.UtcNow + duration;
        var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
        {
            var mine = new List<double>();
            for (int i = w; DateTime.UtcNow < end; i += concurrency)
            {
                var content = new ByteArrayContent(bodies[i % bodies.Length]) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } };
                long start = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync("/predict", content);
                await response.Content.ReadAsByteArrayAsync();
                if (response.StatusCode != HttpStatusCode.OK) throw new InvalidOperationException($"/predict answered {(int)response.StatusCode}");
                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            lock (latencies) latencies.AddRange(mine);
        })).ToArray();
        Task.WaitAll(workers);
        return (latencies.Count, latencies);
    }

    static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
    }

    static string ExportSmallModel(string trainFolder, int imageSize, string folder)
    {
        var ml = new MLContext(seed: 1);
        var rows = ImageFolder.List(trainFolder).GroupBy(r => r.Label).SelectMany(g => g.Take(4)).ToArray();
        var view = ml.Data.LoadFromEnumerable(rows);
        var pipeline = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
            .Append(ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options { ImageSize = imageSize, Epochs = 1, BatchSize = 16 }));
        using var fitted = pipeline.Fit(view);
        fitted.OfType<FineTuneImageClassifierTransformer>().Single().SaveOnnx(Path.Combine(folder, "model.onnx"));
        return folder;
    }

    static string ServiceDll(string repoRoot)
    {
        string config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Debug{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Debug" : "Release";
        string dll = Path.Combine(repoRoot, "samples", "OnnxServing", "bin", config, $"net{Environment.Version.Major}.0", "OnnxServing.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is not built (the benchmark project builds it through a ProjectReference).");
    }

    static ProcessStartInfo ServiceStart(string dll, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[dll, .. arguments]) start.ArgumentList.Add(a);
        return start;
    }

    static string LoadAverage()
    {
        try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
        catch (IOException) { return "?"; }
    }


    sealed class TempFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("mlnet-serving-load-").FullName;
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
