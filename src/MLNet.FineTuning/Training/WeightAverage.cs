using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// An exponential moving average of the weights (Polyak averaging; timm's <c>ModelEmaV2</c>): after every optimizer
/// step each floating-point state entry (parameters and normalisation statistics) moves toward the model's by
/// 1 − d, with the decay warmed up as d = min(decay, (1 + t) / (10 + t)) at step t, so that a short fine-tuning run
/// averages its last stretch instead of staying near the pretrained weights. Kept in fp32 on the model's device.
/// When on, validation, best-weights selection and the final model use the average, not the raw weights.
/// </summary>
internal sealed class WeightAverage : IDisposable
{
    private readonly double decay;
    private readonly Dictionary<string, Tensor> average;

    private WeightAverage(double decay, Dictionary<string, Tensor> average)
    {
        this.decay = decay;
        this.average = average;
    }

    /// <summary>Starts from the module's current weights (after a resume, the checkpoint's average replaces them).</summary>
    public static WeightAverage Start(nn.Module module, double decay)
    {
        using var _ = no_grad();
        return new WeightAverage(decay, module.state_dict().Where(kv => kv.Value.is_floating_point())
            .ToDictionary(kv => kv.Key, kv => TensorCopies.Detached(kv.Value, float32)));
    }

    /// <summary>The averaged entries, by state-dict key (owned by this object).</summary>
    public IReadOnlyDictionary<string, Tensor> State => average;

    /// <summary>The decay in force after <paramref name="step"/> optimizer steps (1-based).</summary>
    public static double DecayAt(double decay, long step) => Math.Min(decay, (1.0 + step) / (10.0 + step));

    /// <summary>Moves the average toward the module's weights after optimizer step <paramref name="step"/>.</summary>
    public void Update(nn.Module module, long step)
    {
        double d = DecayAt(decay, step);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using Scalar keep = KeptScalars.Of(d), blend = KeptScalars.Of(1 - d);
        foreach (var (name, t) in module.state_dict())
            if (average.TryGetValue(name, out var a)) a.mul_(keep).add_(t.detach().to(float32), blend);
    }

    /// <summary>Replaces the average with saved values (resume).</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> saved)
    {
        using var _ = no_grad();
        foreach (var (name, a) in average) a.copy_(saved[name]);
    }

    /// <summary>Copies the average into the module.</summary>
    public void CopyTo(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (name, t) in module.state_dict())
            if (average.TryGetValue(name, out var a)) t.copy_(a);
    }

    /// <summary>Runs <paramref name="action"/> with the average in the module, then puts the raw weights back.</summary>
    public T With<T>(nn.Module module, Func<T> action)
    {
        Dictionary<string, Tensor> raw;
        using (no_grad())
            raw = module.state_dict().Where(kv => average.ContainsKey(kv.Key)).ToDictionary(kv => kv.Key, kv => TensorCopies.Detached(kv.Value));
        try
        {
            CopyTo(module);
            return action();
        }
        finally
        {
            using (no_grad())
                foreach (var (name, t) in module.state_dict())
                    if (raw.TryGetValue(name, out var r)) t.copy_(r);
            foreach (var r in raw.Values) r.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var a in average.Values) a.Dispose();
    }
}
