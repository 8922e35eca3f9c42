using System.Diagnostics;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp.Modules;
using static MLNet.FineTuning.Benchmarks.CommandArgs;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- openmp-teams [--steps 30] [--control]`: what one libtorch operation on a second thread does to the training steps
/// of the first (docs/benchmarks.md, "One thread calls libtorch"). libgomp gives every thread that starts a parallel
/// region a team of its own for as long as the thread lives; once it manages more threads than there are CPUs it spins
/// far less between regions, and each operation of a step then waits for its workers to be woken. The program times
/// bare ResNet-18 training steps (64 px, batch 32, <see cref="FlatAdamW"/>, one random batch), then runs one
/// <c>index_select</c> on a pool thread, as the image batch producer once did, and times the same steps again. With
/// <c>--control</c> the pool thread does the same work in managed code instead, so that what the second half gains or
/// loses by coming second shows on its own. The change is process-wide and lasting, so the two halves cannot be
/// interleaved: compare runs with and without <c>--control</c>.
/// </summary>
internal static class OpenMpTeams
{
    public const string Usage = "usage: benchmarks openmp-teams [--steps 30] [--control]";

    public static int Run(string[] args)
    {
        int steps = Int(args, "--steps", 30);
        bool control = args.Contains("--control");
        NativeHeap.TuneForTraining(null);   // as Fit trains on the CPU
        manual_seed(1);
        using var backbone = (ResNet)PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreatePretrained(null, 64);
        backbone.train();
        using var head = nn.Linear(backbone.FeatureCount, 10);
        using var optimizer = new FlatAdamW([new AdamW.ParamGroup(backbone.parameters().Concat(head.parameters()), new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })], 1e-3, 0.01);
        using var images = randn([32, 3, 64, 64]);
        using var labels = randint(0, 10, [32]);
        Console.WriteLine($"bare ResNet-18 steps on the CPU, {get_num_threads()} threads, 64 px, batch 32, {steps} timed steps per half after 5 untimed");

        var before = Time(steps + 5).Skip(5).ToArray();
        Task.Run(() =>
        {
            if (control)
            {
                var pixels = new byte[1280 * 3 * 64 * 64];
                var batch = new byte[32 * 3 * 64 * 64];
                for (int row = 0; row < 32; row++) Array.Copy(pixels, row * batch.Length / 32, batch, row * batch.Length / 32, batch.Length / 32);
                return;
            }
            using var all = zeros([1280, 3, 64, 64], dtype: uint8);
            using var rows = arange(32, dtype: int64);
            using var gathered = all.index_select(0, rows);
        }).Wait();
        var after = Time(steps);

        Console.WriteLine("| median seconds | forward + loss | backward | FlatAdamW step | img/s |");
        Console.WriteLine("|---|---|---|---|---|");
        Row("before", before);
        Row(control ? "after the managed copy on a pool thread (control)" : "after one index_select on a pool thread", after);
        Console.WriteLine($"after / before, img/s: {Rate(after) / Rate(before):F2}");
        return 0;

        (double Forward, double Backward, double Optimizer)[] Time(int count)
        {
            var clock = new Stopwatch();
            var phases = new List<(double Forward, double Backward, double Optimizer)>();
            for (int step = 0; step < count; step++)
            {
                using (NewDisposeScope())
                {
                    clock.Restart();
                    var loss = nn.functional.cross_entropy(head.forward(backbone.forward(images)), labels);
                    double forward = clock.Elapsed.TotalSeconds;
                    loss.backward();
                    double backward = clock.Elapsed.TotalSeconds;
                    optimizer.step();
                    optimizer.zero_grad();
                    phases.Add((forward, backward - forward, clock.Elapsed.TotalSeconds - backward));
                }
                GC.Collect(0);   // as the training loop does after each CPU step
            }
            return phases.ToArray();
        }
        static double Median(IEnumerable<double> xs) => CpuPeer.Median(xs);
        static double Rate((double Forward, double Backward, double Optimizer)[] p) =>
            32 / (Median(p.Select(x => x.Forward)) + Median(p.Select(x => x.Backward)) + Median(p.Select(x => x.Optimizer)));
        static void Row(string name, (double Forward, double Backward, double Optimizer)[] p) =>
            Console.WriteLine($"| {name} | {Median(p.Select(x => x.Forward)):F4} | {Median(p.Select(x => x.Backward)):F4} | {Median(p.Select(x => x.Optimizer)):F4} | {Rate(p):F1} |");
    }
}
