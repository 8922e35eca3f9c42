using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- tensor-lifetime [--seconds N] [--repeats R]`: the tensor side of TorchSharp's lifetime race
/// (docs/scalar-lifetime.md). A thread allocates without pause while the main thread relays an 8×64×32×32 tensor out
/// channels-last and sums it, outside any dispose scope: as one chain of calls (each call's receiver a temporary that
/// nothing holds once its handle is read), with only the relayout or only the sum as a chain, through the library's
/// <c>ChannelsLast.Of</c> and locals, and as the whole chain inside a dispose scope. A use after free takes the whole process down, so each case runs in
/// a child process of its own, R times, until it dies or N seconds pass.
/// </summary>
internal static class TensorLifetime
{
    public const string Usage = "tensor-lifetime [--seconds N (default 30)] [--repeats R (default 3)]";

    static readonly string[] Cases = ["chain", "relayout-chain", "sum-chain", "locals", "scope"];

    public static int Run(string[] args)
    {
        int seconds = Option(args, "--seconds", 30), repeats = Option(args, "--repeats", 3);
        if (Array.IndexOf(args, "--case") is int i and >= 0) return Child(args[i + 1], seconds);
        Console.WriteLine($"relayout + sum of an 8x64x32x32 tensor while another thread allocates 4 KiB arrays without pause; " +
                          $"each case in its own process, at most {seconds} s, {repeats} times");
        foreach (string name in Cases)
            for (int r = 1; r <= repeats; r++)
            {
                var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true };
                if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet") start.ArgumentList.Add(typeof(TensorLifetime).Assembly.Location);
                foreach (string a in new[] { "tensor-lifetime", "--case", name, "--seconds", seconds.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(a);
                var watch = Stopwatch.StartNew();
                using var child = Process.Start(start)!;
                string output = child.StandardOutput.ReadToEnd();
                child.StandardError.ReadToEnd();
                child.WaitForExit();
                string outcome = child.ExitCode == 0 ? output.Trim() : $"process died (exit code {child.ExitCode}) after {watch.Elapsed.TotalSeconds:F1} s";
                Console.WriteLine($"  {name,-6} run {r}: {outcome}");
            }
        return 0;
    }

    static int Child(string name, int seconds)
    {
        using var x = randn(8, 64, 32, 32);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        var garbage = AllocatingThread.Start(stop.Token);
        var watch = Stopwatch.StartNew();
        long calls = 0;
        double sum = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                switch (name)
                {
                    case "chain":
                        {
                            using var y = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                            sum += y.sum().item<float>();
                            break;
                        }
                    case "relayout-chain":   // the relayout as one chain (ChannelsLast.Of until 2026-12-07), the sum in locals
                        {
                            using var y = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
                            using var total = y.sum();
                            sum += total.item<float>();
                            break;
                        }
                    case "sum-chain":   // the relayout in locals, the sum as a chain
                        {
                            using var y = Modeling.ChannelsLast.Of(x);
                            sum += y.sum().item<float>();
                            break;
                        }
                    case "locals":
                        {
                            using var y = Modeling.ChannelsLast.Of(x);
                            using var total = y.sum();
                            sum += total.item<float>();
                            break;
                        }
                    default:
                        {
                            using var scope = NewDisposeScope();
                            sum += x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).sum().item<float>();
                            break;
                        }
                }
                calls++;
            }
        }
        finally { stop.Cancel(); garbage.Join(); }
        Console.WriteLine($"no failure: {calls:N0} calls in {watch.Elapsed.TotalSeconds:F1} s (sum {sum:G3})");
        return 0;
    }

    static int Option(string[] args, string name, int fallback) =>
        Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
}
