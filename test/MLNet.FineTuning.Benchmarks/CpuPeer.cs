using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNet.FineTuning.Pretrained;
using static MLNet.FineTuning.Benchmarks.CommandArgs;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- cpu-peer` (issue 10): <c>FineTuneImageClassifier.Fit</c> against PyTorch on the same CPU, interleaved in one run
/// so that the machine's load hits both alike: one epoch of ResNet-18 on the same images, size, batch and thread count,
/// repeated, medians compared. The peer is <c>eng/cpu-peer/resnet18_steps.py</c> under Debian's python3-torch, run twice
/// per round: with glibc's allocator defaults (what a PyTorch user gets) and with the thresholds this library sets for
/// its own CPU training (<c>Training/NativeHeap.cs</c>), so that the ratio says what is ours and what is the allocator.
/// The plain TorchSharp loop runs beside them (same process as Fit, so with the library's thresholds).
/// </summary>
internal static class CpuPeer
{
    public const string Usage = "cpu-peer [--images 1280] [--image-size 64] [--batch-size 32] [--repeats 3] [--python /usr/bin/python3]\n" +
                                "  needs Debian's PyTorch: apt-get install python3-torch python3-torchvision";

    internal static readonly Dictionary<string, string> TunedAllocator = new()
    {
        ["MALLOC_MMAP_THRESHOLD_"] = (1 << 30).ToString(CultureInfo.InvariantCulture),
        ["MALLOC_TRIM_THRESHOLD_"] = (1 << 30).ToString(CultureInfo.InvariantCulture),
    };

    public static int Run(string[] args, string repoRoot, string command)
    {
        int images = Int(args, "--images", 1280), size = Int(args, "--image-size", 64), batch = Int(args, "--batch-size", 32), repeats = Int(args, "--repeats", 3);
        string python = Value(args, "--python") ?? "/usr/bin/python3";
        string script = Path.Combine(repoRoot, "eng", "cpu-peer", "resnet18_steps.py");
        var check = Peer(python, ["-c", "import torch, torchvision; print(torch.__version__)"], null);
        if (check.ExitCode != 0)
        {
            Console.Error.WriteLine($"{python} cannot import torch and torchvision ({check.Error.Trim()}). Install Debian's: apt-get install python3-torch python3-torchvision");
            return 2;
        }
        int threads = get_num_threads();
        Console.WriteLine($"CPU peer, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads} on both sides, PyTorch {check.Output.Trim()}");
        Console.WriteLine($"  {command}");
        Console.WriteLine($"  ResNet-18 (resnet18-mlnet's blocks on both sides), {size} px, batch {batch}, {images} images, one epoch per run, the first 2 steps of each run not timed, {repeats} rounds");

        var ml = new MLContext(seed: 1);
        using var tempFiles = TempFiles.For(ml);
        var data = BenchmarkData.Load(ml, Path.Combine(repoRoot, "samples", "data", "fashion-mnist", "train"), images, size);
        string pixels = Path.Combine(tempFiles.Folder, "peer-pixels.f32"), labels = Path.Combine(tempFiles.Folder, "peer-labels.i64");
        using (var f = File.Create(pixels))
            foreach (var p in data.Pixels) f.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(p.AsSpan()));
        File.WriteAllBytes(labels, data.Labels.SelectMany(l => BitConverter.GetBytes((long)l)).ToArray());
        // The same network on both sides: resnet18-mlnet has three blocks in layer4 where torchvision's ResNet-18 has two.
        using var shape = (Modeling.ResNet)PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreateRandom(size);
        string[] peerArgs = [script, "--pixels", pixels, "--labels", labels, "--size", $"{size}", "--classes", $"{data.ClassNames.Length}",
                             "--batch", $"{batch}", "--threads", $"{threads}", "--blocks", string.Join(",", shape.Blocks),
                             // Clipping as the benchmark's Fit has it (off: FitBenchmark.FitOptions, like the plain loop).
                             "--clip", $"{FitBenchmark.FitOptions(size, batch, null).GradientClipNorm}"];

        var o = new BenchmarkOptions { ImageSize = size, BatchSize = batch, Images = images };
        var plainBatches = data.Tensors(batch, train: true, PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).Preprocessing);
        FitBenchmark.RunFit(ml, data, o, 4 * batch);   // warm-up (and the library's allocator setting, process-wide from here)
        var fit = new List<double>();
        var plain = new List<double>();
        var peerDefault = new List<double>();
        var peerTuned = new List<double>();
        var plainPhases = new List<(double Forward, double Backward, double Optimizer)>();
        var peerPhases = new List<(double Forward, double Backward, double Optimizer)>();
        var fitSteps = new List<double[]>();   // each run's step seconds: the fastest steps are the noise-free figure
        var plainSteps = new List<double[]>();
        var peerDefaultSteps = new List<double[]>();
        var peerTunedSteps = new List<double[]>();
        for (int r = 0; r < repeats; r++)
        {
            var fitRun = FitBenchmark.RunFit(ml, data, o, data.Count, skipFirst: 2);
            fit.Add(fitRun.TrainImagesPerSecond);
            fitSteps.Add(fitRun.StepSeconds);
            var plainRun = FitBenchmark.RunPlain(data, plainBatches, skipFirst: 2,
                done: p => plainPhases.AddRange(p.Phases.Skip(2).Where((_, i) => (i + 2) * batch + batch <= data.Count)));
            plain.Add(plainRun.ImagesPerSecond);
            plainSteps.Add(plainRun.StepSeconds);
            var byDefault = PeerImagesPerSecond(python, peerArgs, null);
            peerDefault.Add(byDefault.ImagesPerSecond);
            peerDefaultSteps.Add(byDefault.StepSeconds);
            var tuned = PeerImagesPerSecond(python, peerArgs, TunedAllocator);
            peerTuned.Add(tuned.ImagesPerSecond);
            peerTunedSteps.Add(tuned.StepSeconds);
            peerPhases.Add(tuned.Phases);
            Console.WriteLine($"  round {r + 1}: Fit {fit[^1],6:F1}  plain TorchSharp {plain[^1],6:F1}  PyTorch {peerDefault[^1],6:F1} (glibc defaults)  " +
                              $"{peerTuned[^1],6:F1} (library's thresholds)  img/s");
        }
        foreach (var b in plainBatches) { b.Images.Dispose(); b.Labels.Dispose(); }
        double mFit = Median(fit), mPlain = Median(plain), mDefault = Median(peerDefault), mTuned = Median(peerTuned);
        Console.WriteLine("\n| figure (median of the rounds) | img/s | Fit / it |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| Fit, training phase | {mFit:F1} | |");
        Console.WriteLine($"| plain TorchSharp loop (pre-built tensors) | {mPlain:F1} | {mFit / mPlain:F2} |");
        Console.WriteLine($"| PyTorch, glibc's allocator defaults | {mDefault:F1} | **{mFit / mDefault:F2}** |");
        Console.WriteLine($"| PyTorch, MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ = 1 GiB (the library's setting) | {mTuned:F1} | **{mFit / mTuned:F2}** |");
        // On a shared machine other work only ever slows a step down: the fastest full steps of all rounds (each run's
        // first 2 left out, as above) are the closest to each side's own cost, whatever the rounds' load was.
        double Fastest(List<double[]> runs) => FitBenchmark.FastestFullStep(runs.Select(r => r.Skip(2).ToArray()), data.Count - 2 * batch, batch);
        double fFit = Fastest(fitSteps), fPlain = Fastest(plainSteps), fDefault = Fastest(peerDefaultSteps), fTuned = Fastest(peerTunedSteps);
        Console.WriteLine($"\n| fastest full step of {batch}, all rounds | seconds | Fit / it (time ratio inverted) |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| Fit | {fFit:F3} | |");
        Console.WriteLine($"| plain TorchSharp loop | {fPlain:F3} | {fPlain / fFit:F2} |");
        Console.WriteLine($"| PyTorch, glibc's allocator defaults | {fDefault:F3} | **{fDefault / fFit:F2}** |");
        Console.WriteLine($"| PyTorch, the library's thresholds | {fTuned:F3} | **{fTuned / fFit:F2}** |");
        // Where a step's time goes, both with the raised thresholds: the plain loop's steps against the peer's medians.
        Console.WriteLine($"\n| median seconds of a full step of {batch} | forward + loss | backward | optimizer |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| plain TorchSharp loop | {Median(plainPhases.Select(p => p.Forward)):F3} | {Median(plainPhases.Select(p => p.Backward)):F3} | {Median(plainPhases.Select(p => p.Optimizer)):F3} |");
        Console.WriteLine($"| PyTorch (library's thresholds; median of the rounds' medians) | {Median(peerPhases.Select(p => p.Forward)):F3} | {Median(peerPhases.Select(p => p.Backward)):F3} | {Median(peerPhases.Select(p => p.Optimizer)):F3} |");
        return 0;
    }

    internal static (double ImagesPerSecond, (double Forward, double Backward, double Optimizer) Phases, double[] StepSeconds) PeerImagesPerSecond(
        string python, string[] args, Dictionary<string, string>? environment)
    {
        var run = Peer(python, args, environment);
        if (run.ExitCode != 0) throw new InvalidOperationException($"the PyTorch peer failed (exit {run.ExitCode}): {run.Error}");
        var json = JsonNode.Parse(run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1])!;
        var phases = json["median_phase_seconds"]!;
        return (json["images_per_second"]!.GetValue<double>(),
            (phases["forward"]!.GetValue<double>(), phases["backward"]!.GetValue<double>(), phases["optimizer"]!.GetValue<double>()),
            json["step_seconds"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray());
    }

    internal static (int ExitCode, string Output, string Error) Peer(string python, string[] args, Dictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in environment ?? []) start.Environment[k] = v;
        try
        {
            using var p = Process.Start(start)!;
            var error = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, output, error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (127, "", e.Message);
        }
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
