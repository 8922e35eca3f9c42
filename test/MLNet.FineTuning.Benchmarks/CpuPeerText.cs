using Microsoft.ML;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using static MLNet.FineTuning.Benchmarks.CommandArgs;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- cpu-peer-text` (issue 10): <c>LoraTextClassifier.Fit</c> against PyTorch on the same CPU, interleaved as
/// <see cref="CpuPeer"/> does for images: one epoch of MiniLM-L6 with LoRA (r 8 on query and value, as the GPU peer and
/// the README's figures use) over SpamAssassin e-mails that fill the 128-token window, batch 16, the same thread count,
/// repeated, medians compared. The peer is <c>eng/cpu-peer/minilm_lora_steps.py</c> (the same network in plain torch.nn:
/// Debian has no transformers or peft), with glibc's allocator defaults and with the library's thresholds.
/// </summary>
internal static class CpuPeerText
{
    public const string Usage = "cpu-peer-text [--texts 256] [--max-length 128] [--batch-size 16] [--repeats 3] [--python /usr/bin/python3]\n" +
                                "  needs Debian's PyTorch and OpenBLAS: apt-get install python3-torch libopenblas0-pthread\n" +
                                "  (without OpenBLAS, Debian's PyTorch runs its linear layers on the reference BLAS, about 8x slower)";

    public static int Run(string[] args, string repoRoot, string command)
    {
        int texts = Int(args, "--texts", 256), length = Int(args, "--max-length", 128), batch = Int(args, "--batch-size", 16), repeats = Int(args, "--repeats", 3);
        string python = Value(args, "--python") ?? "/usr/bin/python3";
        string script = Path.Combine(repoRoot, "eng", "cpu-peer", "minilm_lora_steps.py");
        var check = CpuPeer.Peer(python, ["-c", "import torch; print(torch.__version__)"], null);
        if (check.ExitCode != 0)
        {
            Console.Error.WriteLine($"{python} cannot import torch ({check.Error.Trim()}). Install Debian's: apt-get install python3-torch libopenblas0-pthread");
            return 2;
        }
        int threads = get_num_threads();
        Console.WriteLine($"CPU text peer, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, torch threads {threads} on both sides, PyTorch {check.Output.Trim()}");
        Console.WriteLine($"  {command}");
        Console.WriteLine($"  {PretrainedCatalog.MiniLmL6} + LoRA r=8 (query, value), {texts} SpamAssassin texts, max length {length}, batch {batch}, one epoch per run, first step not timed, {repeats} rounds");

        var rows = TextBenchmark.LoadRows(Path.Combine(repoRoot, "samples", "data", "spam-assassin", "train.tsv"), texts);
        var ml = new MLContext(seed: 1);
        using var tempFiles = TempFiles.For(ml);
        var raw = ml.Data.LoadFromEnumerable(rows);
        var view = ml.Transforms.Conversion.MapValueToKey("Label").Fit(raw).Transform(raw);
        int classes = rows.Select(r => r.Label).Distinct().Count();
        // Clipping as Fit has it here (the estimator's default global norm, 1.0).
        string[] peerArgs = [script, "--texts", $"{texts}", "--length", $"{length}", "--classes", $"{classes}", "--batch", $"{batch}", "--threads", $"{threads}",
                             "--clip", $"{new LoraTextClassifier.Options().GradientClipNorm.ToString(System.Globalization.CultureInfo.InvariantCulture)}"];

        TextBenchmark.Train(ml, view, 2 * batch, batch, length, fullFineTune: false, TrainingPrecision.Float32).Model.Dispose();   // warm-up
        var fit = new List<double>();
        var peerDefault = new List<double>();
        var peerTuned = new List<double>();
        for (int r = 0; r < repeats; r++)
        {
            var run = TextBenchmark.Train(ml, view, texts, batch, length, fullFineTune: false, TrainingPrecision.Float32);
            run.Model.Dispose();
            fit.Add(run.SeqPerSecond);
            peerDefault.Add(CpuPeer.PeerImagesPerSecond(python, peerArgs, null).ImagesPerSecond);
            peerTuned.Add(CpuPeer.PeerImagesPerSecond(python, peerArgs, CpuPeer.TunedAllocator).ImagesPerSecond);
            Console.WriteLine($"  round {r + 1}: Fit {fit[^1],6:F1}  PyTorch {peerDefault[^1],6:F1} (glibc defaults)  {peerTuned[^1],6:F1} (library's thresholds)  seq/s");
        }
        double mFit = CpuPeer.Median(fit), mDefault = CpuPeer.Median(peerDefault), mTuned = CpuPeer.Median(peerTuned);
        Console.WriteLine("\n| figure (median of the rounds) | seq/s | Fit / it |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| Fit, training phase | {mFit:F1} | |");
        Console.WriteLine($"| PyTorch, glibc's allocator defaults | {mDefault:F1} | **{mFit / mDefault:F2}** |");
        Console.WriteLine($"| PyTorch, MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ = 1 GiB (the library's setting) | {mTuned:F1} | **{mFit / mTuned:F2}** |");
        return 0;
    }
}
