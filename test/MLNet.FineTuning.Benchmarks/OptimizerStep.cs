using System.Diagnostics;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- optimizer [--gpu ID] [--steps N]`: the AdamW step alone, TorchSharp's per-parameter <c>optim.AdamW</c> against
/// the library's <see cref="FlatAdamW"/>, on the parameters the two estimators train: ResNet-18 with its head (68
/// tensors, 15.9 M values with `resnet18-mlnet`'s layer4 of 3 blocks, four groups as Fit makes them; the program prints the counts) and MiniLM-L6's LoRA adapters on every linear layer with a
/// head (74 small tensors). Each side steps over the same random gradients; the figure is milliseconds per step (the
/// median of the timed steps, the device waited for on CUDA). Beside them, the gradient clipping that the training loop
/// runs before each step (TorchSharp's <c>clip_grad_norm_</c>: a norm per tensor, their norm read back to the host, a
/// scaling per tensor: what the loop runs on the CPU), and <see cref="FlatAdamW.ClipGradientNorm"/> over the flat
/// buffers (what it runs on CUDA).
/// </summary>
internal static class OptimizerStep
{
    public const string Usage = "usage: benchmarks optimizer [--gpu ID] [--steps N]   (AdamW step alone: TorchSharp's against FlatAdamW)";

    public static int Run(string[] args)
    {
        int steps = args.SkipWhile(a => a != "--steps").Skip(1).Select(int.Parse).FirstOrDefault(50);
        int? gpu = args.SkipWhile(a => a != "--gpu").Skip(1).Select(int.Parse).Cast<int?>().FirstOrDefault();
        var device = gpu is int id ? new Device(DeviceType.CUDA, id) : CPU;
        Console.WriteLine($"AdamW step alone on {device}, {get_num_threads()} threads, {steps} timed steps after 5 untimed, median ms per step");
        foreach (var (name, make) in new (string, Func<Parameter[][]>)[] { ("ResNet-18 + head", ResNet18), ("MiniLM-L6 LoRA r=8, every linear layer, + head", MiniLmLora) })
        {
            double stock = Time(make, device, steps, groups => optim.AdamW(groups, lr: 1e-3, weight_decay: 0.01));
            double flat = Time(make, device, steps, groups => new FlatAdamW(groups, 1e-3, 0.01));
            double clip = TimeClipping(make, device, steps);
            double flatClip = TimeFlatClipping(make, device, steps);
            var parameters = make();
            string size = $"{parameters.Sum(g => g.Length)} tensors, {parameters.Sum(g => g.Sum(p => p.numel())) / 1e6:F1} M values";
            foreach (var p in parameters.SelectMany(g => g)) p.Dispose();
            Console.WriteLine($"  {name,-48} TorchSharp AdamW {stock,8:F2} ms   FlatAdamW {flat,8:F2} ms   {stock / flat,5:F2}×   clip_grad_norm_ {clip,7:F2} ms   flat clipping {flatClip,7:F2} ms   ({size})");
        }
        return 0;
    }

    /// <summary>Parameter groups as Fit makes them: decayed matrices and undecayed vectors, head and backbone.</summary>
    private static Parameter[][] ResNet18()
    {
        var backbone = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreatePretrained();
        var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, 10, 0.2));
        var head = model.Head.parameters().ToArray();
        var body = model.Backbone.parameters().ToArray();
        return [head.Where(p => p.dim() > 1).ToArray(), head.Where(p => p.dim() <= 1).ToArray(),
                body.Where(p => p.dim() > 1).ToArray(), body.Where(p => p.dim() <= 1).ToArray()];
    }

    /// <summary>The adapters' shapes: 6 layers × (query, key, value, attention output, intermediate, output) × (A, B).</summary>
    private static Parameter[][] MiniLmLora()
    {
        const int hidden = 384, inner = 1536, rank = 8;
        var linears = new (int In, int Out)[] { (hidden, hidden), (hidden, hidden), (hidden, hidden), (hidden, hidden), (hidden, inner), (inner, hidden) };
        var adapters = Enumerable.Range(0, 6).SelectMany(_ => linears)
            .SelectMany(l => new[] { new Parameter(randn(rank, l.In)), new Parameter(randn(l.Out, rank)) }).ToArray();
        return [adapters, [new Parameter(randn(10, hidden))], [new Parameter(randn(10))]];
    }

    /// <summary>Median milliseconds of <c>clip_grad_norm_</c> at the loop's default (1.0) over the same tensors and random gradients.</summary>
    private static double TimeClipping(Func<Parameter[][]> make, Device device, int steps)
    {
        var groups = OnDevice(make, device);
        var parameters = groups.SelectMany(ps => ps).ToArray();
        try { return MedianMilliseconds(device, steps, () => nn.utils.clip_grad_norm_(parameters, 1.0)); }   // reads the norm back
        finally { foreach (var p in parameters) p.Dispose(); }
    }

    /// <summary>Median milliseconds of <see cref="FlatAdamW.ClipGradientNorm"/> at 1.0 over the same tensors, as the loop's
    /// groups hold them (the gradients adopted into the buffers at the first call, as after a first step).</summary>
    private static double TimeFlatClipping(Func<Parameter[][]> make, Device device, int steps) =>
        Time(make, device, steps, groups => new FlatAdamW(groups, 1e-3, 0.01), optimizer => ((FlatAdamW)optimizer).ClipGradientNorm(1.0));

    /// <summary>Median milliseconds of <paramref name="act"/> (default: the optimizer's step) over the parameters
    /// <paramref name="make"/> gives, on <paramref name="device"/>, with random gradients, in Fit's groups.</summary>
    private static double Time(Func<Parameter[][]> make, Device device, int steps, Func<AdamW.ParamGroup[], optim.Optimizer> create,
                               Action<optim.Optimizer>? act = null)
    {
        using var _ = no_grad();
        var groups = OnDevice(make, device);
        using var optimizer = create(groups.Select((ps, i) => new AdamW.ParamGroup(ps, new AdamW.Options { LearningRate = 1e-3, weight_decay = i % 2 == 0 ? 0.01 : 0 })).ToArray());
        try { return MedianMilliseconds(device, steps, () => { if (act != null) act(optimizer); else optimizer.step(); }); }
        finally { foreach (var p in groups.SelectMany(x => x)) p.Dispose(); }
    }

    /// <summary>The parameters on the device, each with a random gradient (seeded alike for every figure).</summary>
    private static Parameter[][] OnDevice(Func<Parameter[][]> make, Device device)
    {
        manual_seed(1);
        var groups = make().Select(ps => ps.Select(p => new Parameter(p.to(device))).ToArray()).ToArray();
        foreach (var p in groups.SelectMany(x => x)) p.grad = randn_like(p);
        return groups;
    }

    /// <summary>The median of <paramref name="steps"/> timed calls after 5 untimed ones, each waited for on CUDA.</summary>
    private static double MedianMilliseconds(Device device, int steps, Action call)
    {
        var times = new List<double>();
        var clock = new Stopwatch();
        for (int step = 0; step < steps + 5; step++)
        {
            clock.Restart();
            // A scope, as the training loop's step has: TorchSharp's own AdamW and clip_grad_norm_ chain temporaries,
            // which outside one can be finalized mid-call (docs/scalar-lifetime.md).
            using (NewDisposeScope()) call();
            if (device.type == DeviceType.CUDA) cuda.synchronize(device);
            if (step >= 5) times.Add(clock.Elapsed.TotalMilliseconds);
            if (device.type == DeviceType.CPU) GC.Collect(0);   // as the training loop does (TorchSharp's Scalars)
        }
        return times.Order().ElementAt(times.Count / 2);
    }
}
