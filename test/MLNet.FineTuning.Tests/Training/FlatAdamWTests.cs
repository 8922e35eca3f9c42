using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

public class FlatAdamWTests
{
    /// <summary>Three groups as the training loop builds them: decayed weight matrices (one of them a channels-last
    /// convolution kernel), an undecayed bias, and a group at another rate.</summary>
    private static Parameter[] Parameters(int seed)
    {
        var g = new Generator((ulong)seed);
        var kernel = randn([6, 3, 3, 3], generator: g);
        return
        [
            new Parameter(randn([8, 5], generator: g)),
            new Parameter(kernel.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2)),   // NCHW shape, NHWC strides
            new Parameter(randn([8], generator: g)),
            new Parameter(randn([4, 7], generator: g)),
        ];
    }

    private static AdamW.ParamGroup[] Groups(Parameter[] p) =>
    [
        new([p[0], p[1]], new AdamW.Options { LearningRate = 3e-3, weight_decay = 0.05 }),
        new([p[2]], new AdamW.Options { LearningRate = 3e-3, weight_decay = 0 }),
        new([p[3]], new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 }),
    ];

    /// <summary>Gradients as a caller sets them (a new tensor each step); null for the parameters in <paramref name="without"/>.</summary>
    private static void Gradients(Parameter[] parameters, int step, params int[] without)
    {
        var g = new Generator((ulong)(100 + step));
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var grad = randn(parameters[i].shape, generator: g);
            parameters[i].grad = without.Contains(i) ? null : grad;
        }
    }

    /// <summary><paramref name="steps"/> steps of both optimizers over the same seeded gradients (none for the
    /// parameters <paramref name="frozenUntil"/> names, before that step); <paramref name="afterStep"/> sees each step.</summary>
    private static void StepBoth(optim.Optimizer reference, Parameter[] referenceParameters, FlatAdamW flat, Parameter[] flatParameters, int steps,
                                 (int Step, int[] Parameters)? frozenUntil = null, Action<int>? afterStep = null)
    {
        for (int step = 0; step < steps; step++)
        {
            int[] frozen = frozenUntil is var (until, which) && step < until ? which : [];
            Gradients(referenceParameters, step, frozen);
            Gradients(flatParameters, step, frozen);
            reference.step();
            flat.step();
            afterStep?.Invoke(step);
        }
    }

    private static void AssertSame(Parameter[] expected, Parameter[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].allclose(actual[i], rtol: 1e-6, atol: 1e-7), $"parameter {i} differs by {(expected[i] - actual[i]).abs().max().item<float>()}");
    }

    [Fact]
    public void Step_SameUpdatesAsTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // The same arithmetic over flat buffers: the updates match TorchSharp's per-parameter AdamW.
        var reference = Parameters(1);
        var flat = Parameters(1);
        using var adamw = optim.AdamW(Groups(reference), lr: 3e-3, weight_decay: 0.05);
        using var optimizer = new FlatAdamW(Groups(flat), 3e-3, 0.05);

        StepBoth(adamw, reference, optimizer, flat, steps: 6);

        AssertSame(reference, flat);
        Assert.False(flat[0].allclose(Parameters(1)[0]), "nothing was updated");
        Assert.Equal(reference[1].stride(), flat[1].stride());   // the channels-last kernel kept its layout
    }

    [Fact]
    public void Step_GroupLargerThanACpuChunk_SameUpdatesAsTorchSharpsAdamW()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // 2.4 M values in one group, updated in 2²⁰-element chunks on the CPU, the chunk edges inside both tensors.
        Parameter[] Large(int seed)
        {
            var g = new Generator((ulong)seed);
            return [new Parameter(randn([1100, 1000], generator: g)), new Parameter(randn([1300, 1000], generator: g))];
        }
        var reference = Large(2);
        var flat = Large(2);
        AdamW.ParamGroup[] Group(Parameter[] p) => [new(p, new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })];
        using var adamw = optim.AdamW(Group(reference), lr: 1e-3, weight_decay: 0.01);
        using var optimizer = new FlatAdamW(Group(flat), 1e-3, 0.01);

        StepBoth(adamw, reference, optimizer, flat, steps: 3);

        AssertSame(reference, flat);
    }

    [Fact]
    public void Step_ParameterWithoutGradient_IsLeftAlone()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // Frozen for the first steps (no gradient: neither decay nor update), then trained with its own step count, as
        // TorchSharp's AdamW does; the group's update splits around it.
        var reference = Parameters(2);
        var flat = Parameters(2);
        var start = Parameters(2);
        using var adamw = optim.AdamW(Groups(reference), lr: 3e-3, weight_decay: 0.05);
        using var optimizer = new FlatAdamW(Groups(flat), 3e-3, 0.05);

        StepBoth(adamw, reference, optimizer, flat, steps: 5, frozenUntil: (3, [0]), afterStep: step =>
        {
            if (step == 2) Assert.True(flat[0].eq(start[0]).all().item<bool>(), "a parameter without a gradient changed");
        });

        AssertSame(reference, flat);
    }

    [Theory]
    [InlineData(0.5)]    // below every step's norm: each gradient is scaled
    [InlineData(1e6)]    // above it: nothing is scaled
    public void ClipGradientNorm_SameNormAndUpdatesAsTorchSharpsClipping(double maxNorm)
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // The loop's order: gradients (new tensors, none for a frozen parameter at first), clip, step, zero_grad. Over the
        // flat buffers the squares add up in another order, so the norm agrees to rounding, and so do the updates.
        var reference = Parameters(3);
        var flat = Parameters(3);
        using var adamw = optim.AdamW(Groups(reference), lr: 3e-3, weight_decay: 0.05);
        using var optimizer = new FlatAdamW(Groups(flat), 3e-3, 0.05);
        for (int step = 0; step < 4; step++)
        {
            int[] frozen = step < 2 ? [2] : [];
            Gradients(reference, step, frozen);
            Gradients(flat, step, frozen);
            double expected = nn.utils.clip_grad_norm_(reference, maxNorm);
            double actual = optimizer.ClipGradientNorm(maxNorm);
            Assert.InRange(Math.Abs(actual - expected), 0, 1e-5 * expected);
            adamw.step();
            optimizer.step();
            adamw.zero_grad();
            optimizer.zero_grad();
        }

        AssertSame(reference, flat);
    }

    [Fact]
    public void ClipGradientNorm_NonFiniteGradient_ReturnsTheNonFiniteNormAndScalesNothing()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // The loop stops on a non-finite norm before the step; the gradients are left as they were for it to clear.
        var flat = Parameters(4);
        using var optimizer = new FlatAdamW(Groups(flat), 3e-3, 0.05);
        Gradients(flat, 0);
        using (no_grad()) flat[3].grad![0, 0] = float.NaN;
        var before = flat[0].grad!.clone();

        Assert.True(double.IsNaN(optimizer.ClipGradientNorm(0.5)));
        Assert.True(flat[0].grad!.allclose(before, rtol: 0, atol: 0));
    }

    [Fact]
    public void Backward_AccumulatesIntoTheBuffer_AndZeroGradClearsIt()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // Real backward passes: the first gradient is adopted into the buffer, the next ones accumulate there in place,
        // zero_grad clears them, and the result matches TorchSharp's AdamW over the same passes.
        var (referenceLayer, flatLayer) = (nn.Linear(5, 3), nn.Linear(5, 3));
        flatLayer.load_state_dict(referenceLayer.state_dict());
        using var adamw = optim.AdamW(referenceLayer.parameters(), lr: 1e-2, weight_decay: 0.01);
        using var optimizer = new FlatAdamW([new AdamW.ParamGroup(flatLayer.parameters(), new AdamW.Options { LearningRate = 1e-2, weight_decay = 0.01 })], 1e-2, 0.01);
        var g = new Generator(7);
        for (int step = 0; step < 4; step++)
        {
            var x = randn([16, 5], generator: g);
            for (int pass = 0; pass < 2; pass++)   // two batches accumulate before each step
            {
                using var half = x.narrow(0, pass * 8, 8);
                referenceLayer.forward(half).square().mean().backward();
                flatLayer.forward(half).square().mean().backward();
            }
            adamw.step();
            optimizer.step();
            adamw.zero_grad();
            optimizer.zero_grad();
        }

        AssertSame(referenceLayer.parameters().ToArray(), flatLayer.parameters().ToArray());
        Assert.All(flatLayer.parameters(), p => Assert.Equal(0f, p.grad!.abs().sum().item<float>()));
    }

    [Fact]
    public void StateDict_SavedAndLoaded_ContinuesTheSameRun()
    {
        using var scope = NewDisposeScope();   // holds every temporary (chains, p.grad) until the test ends
        // A checkpoint's optimizer file: a second optimizer loaded from it takes the same next steps as the first.
        var first = Parameters(3);
        using var optimizer = new FlatAdamW(Groups(first), 3e-3, 0.05);
        for (int step = 0; step < 3; step++) { Gradients(first, step); optimizer.step(); }
        var stream = new MemoryStream();
        optimizer.save_state_dict(new BinaryWriter(stream));

        var second = Parameters(3);
        using (no_grad()) for (int i = 0; i < first.Length; i++) second[i].copy_(first[i]);
        using var resumed = new FlatAdamW(Groups(second), 3e-3, 0.05);
        stream.Position = 0;
        resumed.load_state_dict(new BinaryReader(stream));
        for (int step = 3; step < 6; step++)
        {
            Gradients(first, step);
            Gradients(second, step);
            optimizer.step();
            resumed.step();
        }

        AssertSame(first, second);
    }

    [Theory]
    [InlineData(new long[] { 4, 3, 2, 2 }, new long[] { 12, 4, 2, 1 }, true)]    // contiguous
    [InlineData(new long[] { 4, 3, 2, 2 }, new long[] { 12, 1, 6, 3 }, true)]    // channels-last
    [InlineData(new long[] { 4, 3 }, new long[] { 1, 4 }, true)]                 // transposed
    [InlineData(new long[] { 4, 3 }, new long[] { 6, 1 }, false)]                // every other row: gaps
    [InlineData(new long[] { 4, 3 }, new long[] { 0, 1 }, false)]                // expanded: overlaps
    public void IsDense_TellsTheLayoutsAFlatViewCanHold(long[] shape, long[] strides, bool dense) =>
        Assert.Equal(dense, FlatAdamW.IsDense(shape, strides));

    [Fact]
    public void Step_WhileAnotherThreadForcesCollections_NeverReadsAFreedScalar()
    {
        // Another thread allocating without pause makes the GC run during the native calls. TorchSharp's own AdamW, in
        // this same test, failed within a second with "Expected false to be true ... Scalar.h" (docs/scalar-lifetime.md).
        // 64 small parameters in 64 groups keep the native calls short and many.
        var parameters = Enumerable.Range(0, 64).Select(i => new Parameter(full(4, (float)i))).ToArray();
        foreach (var p in parameters) p.grad = ones(4);
        using var optimizer = new FlatAdamW(parameters.Select(p => new AdamW.ParamGroup([p], new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })), 1e-3, 0.01);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int steps = 0;
        using (new CollectionPressure())
            while (watch.Elapsed < TimeSpan.FromSeconds(3)) { optimizer.step(); steps++; }

        Assert.True(steps > 10, $"only {steps} steps");
        Assert.All(parameters, p => Assert.False(p.isnan().any().item<bool>()));
    }
}
