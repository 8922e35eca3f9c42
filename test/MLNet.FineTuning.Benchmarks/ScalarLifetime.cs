using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- scalar-lifetime [--seconds N]`: shows TorchSharp's scalar race and that the kept scalars avoid it. A thread
/// allocates without pause (as the batch producer does) while the main thread runs AdamW steps over 64 small
/// parameters: TorchSharp's AdamW, then the library's FlatAdamW; each runs until it fails or N seconds pass
/// (docs/scalar-lifetime.md).
/// </summary>
internal static class ScalarLifetime
{
    public static int Run(string[] args)
    {
        int seconds = args.Length >= 2 && args[0] == "--seconds" ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20;
        Console.WriteLine($"AdamW steps over 64 parameters of 4 values while another thread allocates 4 KiB arrays without pause; at most {seconds} s each");
        Try("TorchSharp's AdamW", groups => optim.AdamW(groups, lr: 1e-3, weight_decay: 0.01), seconds);
        Try("FlatAdamW         ", groups => new FlatAdamW(groups, 1e-3, 0.01), seconds);
        return 0;
    }

    static void Try(string name, Func<AdamW.ParamGroup[], optim.Optimizer> create, int seconds)
    {
        var parameters = Enumerable.Range(0, 64).Select(i => new Parameter(full(4, (float)i))).ToArray();
        foreach (var p in parameters) p.grad = ones(4);
        using var optimizer = create([new AdamW.ParamGroup(parameters, new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })]);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var garbage = AllocatingThread.Start(stop.Token);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        long steps = 0;
        string outcome = "no failure";
        try
        {
            while (!stop.IsCancellationRequested) { optimizer.step(); steps++; }
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            outcome = "FAILED: " + e.Message.Split('\n')[0].Trim();
        }
        finally { stop.Cancel(); garbage.Join(); }
        Console.WriteLine($"  {name}: {steps,9:N0} steps in {watch.Elapsed.TotalSeconds,5:F1} s, {outcome}");
        foreach (var p in parameters) p.Dispose();
    }
}
