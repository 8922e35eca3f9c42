using MLNet.FineTuning.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>A two-layer network small enough that the loop's behaviour, not the network, is what a test sees.</summary>
internal sealed class TinyFineTunable : IFineTunable
{
    private readonly TinyModule module;

    /// <summary>The same weights for the same <paramref name="seed"/>, whatever else uses torch's generator.</summary>
    public TinyFineTunable(int seed)
    {
        module = new TinyModule();
        var rng = new Random(seed);
        using var _ = no_grad();
        foreach (var (_, p) in module.named_parameters())
        {
            using var values = tensor(Enumerable.Range(0, (int)p.numel()).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray(), p.shape);
            p.copy_(values);
        }
    }

    public nn.Module Module => module;
    // Read on every access, as the real ones do: a dtype or device move replaces the Parameter objects.
    public IReadOnlyList<(string Name, Parameter Parameter)> BackboneParameters =>
        module.backbone.named_parameters().Select(p => ("backbone." + p.name, p.parameter)).ToArray();
    public IReadOnlyList<(string Name, Parameter Parameter)> HeadParameters =>
        module.head.named_parameters().Select(p => ("head." + p.name, p.parameter)).ToArray();

    public IReadOnlyList<string> InterpolatedState => BackboneParameters.Select(p => p.Name).ToArray();

    public int LayerCount => 1;
    public int LayerOf(string backboneParameterName) => 0;

    public void SetTrainingMode(bool backboneFrozen)
    {
        module.train();
        foreach (var (_, p) in BackboneParameters) p.requires_grad = !backboneFrozen;
    }

    public Tensor Forward(Tensor[] inputs)
    {
        // The scope holds the cast input (a temporary) through the forward pass; the result goes to the caller's scope.
        using var scope = NewDisposeScope();
        return module.forward(inputs[0].to(module.head.weight!.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>A copy of every weight, by state-dict key.</summary>
    public Dictionary<string, float[]> Weights() => WeightsOf(module);

    /// <summary>A copy of every weight of <paramref name="module"/>, by state-dict key, as fp32 values.</summary>
    public static Dictionary<string, float[]> WeightsOf(nn.Module module)
    {
        // The scope holds the chain's temporaries (detach, cpu, to) until their values are read.
        using var scope = NewDisposeScope();
        return module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().to(float32).data<float>().ToArray());
    }

    /// <summary>The dtype of every parameter (what a test of mixed precision checks after training).</summary>
    public ScalarType[] ParameterTypes() => module.parameters().Select(p => p.dtype).ToArray();

    private sealed class TinyModule : nn.Module<Tensor, Tensor>
    {
        public readonly Linear backbone = nn.Linear(Features, 8);
        public readonly Linear head = nn.Linear(8, 2);

        public TinyModule() : base(nameof(TinyModule)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return head.forward(nn.functional.relu(backbone.forward(x))).MoveToOuterDisposeScope();
        }
    }

    public const int Features = 4;
}

/// <summary>
/// Two well-separated Gaussian classes (fixed by a seed), served in order. Like the real image source it
/// stops with <see cref="OperationCanceledException"/> as soon as the token is cancelled.
/// </summary>
internal sealed class SyntheticBatches : IBatchSource
{
    private readonly float[][] rows;
    private readonly long[] labels;
    private readonly int batchSize;
    private readonly TimeSpan delayPerBatch;

    public SyntheticBatches(int rowCount, int batchSize, int seed = 1, TimeSpan delayPerBatch = default)
    {
        var rng = new Random(seed);
        labels = Enumerable.Range(0, rowCount).Select(i => (long)(i % 2)).ToArray();
        rows = labels.Select(l => Enumerable.Range(0, TinyFineTunable.Features)
            .Select(_ => (float)((l == 0 ? 1 : -1) + 0.5 * (rng.NextDouble() - 0.5))).ToArray()).ToArray();
        this.batchSize = batchSize;
        this.delayPerBatch = delayPerBatch;
    }

    public long RowCount => rows.Length;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        for (int start = 0; start < rows.Length; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            if (delayPerBatch > TimeSpan.Zero) Thread.Sleep(delayPerBatch);
            int n = Math.Min(batchSize, rows.Length - start);
            var x = rows.Skip(start).Take(n).SelectMany(r => r).ToArray();
            yield return new Batch([tensor(x, [n, TinyFineTunable.Features])], tensor(labels.Skip(start).Take(n).ToArray()));
        }
    }
}

/// <summary>
/// A validation source whose accuracy the test scripts: call i labels the first <c>accuracies[i]·n</c>
/// rows with the network's own prediction and the others with the other class.
/// </summary>
internal sealed class ScriptedValidation(TinyFineTunable model, params double[] accuracies) : IBatchSource
{
    private const int Rows = 8;
    private readonly SyntheticBatches inputs = new(Rows, Rows, seed: 99);
    private int calls;

    public long RowCount => Rows;

    public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
    {
        double accuracy = accuracies[Math.Min(calls++, accuracies.Length - 1)];
        foreach (var batch in inputs.Batches(0, cancellation))
        {
            long[] predicted;
            using (no_grad())
            using (var logits = model.Forward(batch.Inputs))
            using (var argmax = logits.argmax(1))
                predicted = argmax.data<long>().ToArray();
            int right = (int)Math.Round(accuracy * predicted.Length);
            var labels = predicted.Select((p, i) => i < right ? p : 1 - p).ToArray();
            batch.Labels.Dispose();
            yield return new Batch(batch.Inputs, tensor(labels));
        }
    }
}

/// <summary>Reports delivered on the loop's thread, at once (<see cref="Progress{T}"/> would post them to the thread pool).</summary>
internal sealed class ProgressLog(Action<TrainingProgress>? onReport = null) : IProgress<TrainingProgress>
{
    public List<TrainingProgress> Reports { get; } = [];

    public void Report(TrainingProgress value)
    {
        Reports.Add(value);
        onReport?.Invoke(value);
    }
}
