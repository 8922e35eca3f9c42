using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

public class KeptScalarAdamWTests
{
    /// <summary>Two groups as the training loop builds them: a decayed weight matrix and an undecayed bias.</summary>
    private static (Parameter Weight, Parameter Bias, AdamW.ParamGroup[] Groups) Parameters(int seed)
    {
        var g = new Generator((ulong)seed);
        var weight = new Parameter(randn([8, 5], generator: g));
        var bias = new Parameter(randn([8], generator: g));
        return (weight, bias,
        [
            new AdamW.ParamGroup([weight], new AdamW.Options { LearningRate = 3e-3, weight_decay = 0.05 }),
            new AdamW.ParamGroup([bias], new AdamW.Options { LearningRate = 1e-3, weight_decay = 0 }),
        ]);
    }

    private static void Gradients(Parameter weight, Parameter bias, int step)
    {
        var g = new Generator((ulong)(100 + step));
        using var _ = no_grad();
        weight.grad = randn(weight.shape, generator: g);
        bias.grad = randn(bias.shape, generator: g);
    }

    [Fact]
    public void Step_SameUpdatesAsTorchSharpsAdamW_BitForBit()
    {
        // A drop-in: the same arithmetic in the same order, so runs and checkpoints do not change.
        var (w1, b1, groups1) = Parameters(1);
        var (w2, b2, groups2) = Parameters(1);
        using var reference = optim.AdamW(groups1, lr: 3e-3, weight_decay: 0.05);
        using var kept = new KeptScalarAdamW(groups2, 3e-3, 0.05);

        for (int step = 0; step < 6; step++)
        {
            Gradients(w1, b1, step);
            Gradients(w2, b2, step);
            reference.step();
            kept.step();
        }

        Assert.True(w1.eq(w2).all().item<bool>(), "weights differ");
        Assert.True(b1.eq(b2).all().item<bool>(), "biases differ");
        Assert.False(w1.eq(Parameters(1).Weight).all().item<bool>(), "nothing was updated");
    }

    [Fact]
    public void Step_WhileAnotherThreadForcesCollections_NeverReadsAFreedScalar()
    {
        // Another thread allocating without pause makes the GC run during the native calls. TorchSharp's own AdamW, in
        // this same test, failed within a second with "Expected false to be true ... Scalar.h" (docs/scalar-lifetime.md).
        // 64 small parameters keep the native calls short and many: some 400 scalar arguments per step.
        var parameters = Enumerable.Range(0, 64).Select(i => new Parameter(full(4, (float)i))).ToArray();
        foreach (var p in parameters) p.grad = ones(4);
        using var optimizer = new KeptScalarAdamW([new AdamW.ParamGroup(parameters, new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })], 1e-3, 0.01);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        var garbage = new Thread(() =>
        {
            var keep = new object[64];
            for (int i = 0; !stop.IsCancellationRequested; i++) keep[i & 63] = new byte[4096];
        });
        garbage.Start();
        int steps = 0;
        try
        {
            while (!stop.IsCancellationRequested) { optimizer.step(); steps++; }
        }
        finally { stop.Cancel(); garbage.Join(); }

        Assert.True(steps > 50, $"only {steps} steps");
        Assert.All(parameters, p => Assert.False(p.isnan().any().item<bool>()));
    }
}
