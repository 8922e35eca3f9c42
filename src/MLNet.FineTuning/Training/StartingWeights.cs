using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// The weights a run starts from (the pretrained backbone, or the adapters' initial values), kept in fp32 on the
/// device for the two tools that look back at them:
/// <list type="bullet">
/// <item>L2-SP (Li, Grandvalet and Davoine 2018, "Explicit Inductive Bias for Transfer Learning"): the backbone decays
/// toward its starting weights instead of toward zero, decoupled as AdamW decays (w ← w − rate · λ · (w − w₀)).</item>
/// <item>Weight-space interpolation (WiSE-FT; Wortsman et al. 2022, "Robust fine-tuning of zero-shot models"): after
/// training, the entries the model names in <see cref="IFineTunable.InterpolatedState"/> become w₀ + α (w − w₀).</item>
/// </list>
/// </summary>
internal sealed class StartingWeights : IDisposable
{
    private readonly Dictionary<string, Tensor> start;

    private StartingWeights(Dictionary<string, Tensor> start) => this.start = start;

    /// <summary>Copies the entries of <paramref name="model"/> that the tools need: its backbone parameters and the
    /// entries weight interpolation blends. Call before a checkpoint's weights are loaded, while they are the start.</summary>
    public static StartingWeights Capture(IFineTunable model)
    {
        var names = model.BackboneParameters.Select(p => p.Name).Concat(model.InterpolatedState).ToHashSet();
        using var _ = no_grad();
        return new StartingWeights(model.Module.state_dict().Where(kv => names.Contains(kv.Key) && kv.Value.is_floating_point())
            .ToDictionary(kv => kv.Key, kv => TensorCopies.Detached(kv.Value, float32)));
    }

    /// <summary>One step of L2-SP's decoupled decay on <paramref name="parameters"/> (the tensors the optimizer updates:
    /// the fp32 masters under bf16, named as the module's backbone parameters), each at <paramref name="headRate"/> times
    /// its share in <paramref name="rateShares"/> (the backbone factor, and the layer's under layer-wise decay).</summary>
    public void PullBack(IReadOnlyList<(string Name, Parameter Parameter)> parameters, IReadOnlyList<double> rateShares, double headRate, double strength)
    {
        if (strength == 0) return;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, p) = parameters[i];
            using var pull = KeptScalars.Of(headRate * rateShares[i] * strength);
            p.sub_(p.sub(start[name].to(p.dtype)).mul_(pull));
        }
    }

    /// <summary>Sets every interpolated entry of <paramref name="model"/> to w₀ + α (w − w₀), from the fine-tuned
    /// values in <paramref name="tuned"/> (by state-dict key).</summary>
    public void Interpolate(IFineTunable model, IReadOnlyDictionary<string, Tensor> tuned, double alpha)
    {
        var names = model.InterpolatedState.ToHashSet();
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        using var a = KeptScalars.Of(alpha);
        foreach (var (name, t) in model.Module.state_dict())
            if (names.Contains(name) && start.TryGetValue(name, out var w0))
                t.copy_(w0.add(tuned[name].to(w0.device).to(float32).sub(w0), a));
    }

    public void Dispose()
    {
        foreach (var t in start.Values) t.Dispose();
    }
}
