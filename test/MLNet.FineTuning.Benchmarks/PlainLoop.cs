using System.Diagnostics;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// The hand-written baseline: the same network as Fit builds (pretrained resnet18-mlnet, dropout 0.2, a linear
/// head), the same AdamW groups (the defaults' rates for head and backbone, decay 0.01 on weight matrices and kernels only), in
/// training mode; each <see cref="Step"/> is forward, cross-entropy, backward and an AdamW step inside a dispose
/// scope, on a pre-built, already normalised batch. On CUDA (<c>--gpu</c>) the model lives on the device, in fp32,
/// and each step waits for the device before its clock is read.
/// </summary>
internal sealed class PlainLoop : IDisposable
{
    /// <summary>The AdamW settings both sides use, as the benchmark header prints them.</summary>
    public static string DescribeRates()
    {
        var o = new FineTuneImageClassifier.Options();
        return $"head {o.LearningRate:G2}, backbone {o.LearningRate * o.BackboneLearningRateFactor:G2}, decay {o.WeightDecay:G2}";
    }

    private readonly Classifier model;
    private readonly optim.Optimizer optimizer;
    private readonly Stopwatch clock = new();
    private readonly GpuSetup? gpu;

    /// <param name="classes">Head outputs.</param>
    /// <param name="gpu">Where to train (the GPU mode); null for the CPU.</param>
    public PlainLoop(int classes, GpuSetup? gpu = null)
    {
        this.gpu = gpu;
        var defaults = FitBenchmark.FitOptions(64, 2, null);
        manual_seed(defaults.Seed);
        var backbone = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreatePretrained();
        model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, classes, defaults.HeadDropout));
        // Before the optimizer is made: moving a module replaces its Parameter objects.
        if (gpu != null) model.to(gpu.Device);
        double headRate = defaults.LearningRate, bodyRate = defaults.LearningRate * defaults.BackboneLearningRateFactor, decay = defaults.WeightDecay;
        var head = model.Head.parameters().ToArray();
        var body = model.Backbone.parameters().ToArray();
        static AdamW.ParamGroup Group(IEnumerable<Parameter> ps, double lr, double wd) =>
            new(ps.ToArray(), new AdamW.Options { LearningRate = lr, weight_decay = wd });
        optimizer = optim.AdamW(
        [
            Group(head.Where(p => p.dim() > 1), headRate, decay), Group(head.Where(p => p.dim() <= 1), headRate, 0),
            Group(body.Where(p => p.dim() > 1), bodyRate, decay), Group(body.Where(p => p.dim() <= 1), bodyRate, 0),
        ], lr: headRate, weight_decay: decay);
        model.train();
    }

    /// <summary>Seconds of each step's forward (with the loss), backward and optimizer step, in step order (on the CPU,
    /// where the operations run synchronously; the CPU peer compares them with PyTorch's).</summary>
    public List<(double Forward, double Backward, double Optimizer)> Phases { get; } = [];

    /// <summary>One training step; returns its seconds.</summary>
    public double Step(Tensor images, Tensor labels)
    {
        clock.Restart();
        using var scope = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.forward(images), labels);
        double forward = clock.Elapsed.TotalSeconds;
        optimizer.zero_grad();
        loss.backward();
        double backward = clock.Elapsed.TotalSeconds;
        optimizer.step();
        gpu?.Synchronize();
        double total = clock.Elapsed.TotalSeconds;
        Phases.Add((forward, backward - forward, total - backward));
        return total;
    }

    public void Dispose()
    {
        optimizer.Dispose();
        model.Dispose();
    }
}
