using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// bf16 mixed precision without autocast (TorchSharp 0.107 has none): the module is converted to bf16 for the
/// forward and backward passes, and every trained parameter gets an fp32 master copy that the optimizer owns.
/// Each step copies the bf16 gradients to the masters, the optimizer updates the masters, and the masters are
/// rounded back into the module. <see cref="End"/> returns the module to fp32 holding the masters' exact values.
/// </summary>
/// <remarks>
/// Normalisation layers are converted too: libtorch's CUDA LayerNorm needs its weight in the input's dtype, and
/// one rule for every layer keeps the conversion trivially correct. BatchNorm statistics then run in bf16 (8
/// bits of mantissa: about 0.4% relative precision), which is what a pure-bf16 network does anyway.
/// </remarks>
internal sealed class MixedPrecision : IDisposable
{
    private readonly nn.Module module;
    private readonly List<(string Name, Parameter Model, Parameter Master)> pairs;
    private readonly Dictionary<string, Parameter> mastersByName;

    private MixedPrecision(nn.Module module, List<(string, Parameter, Parameter)> pairs)
    {
        this.module = module;
        this.pairs = pairs;
        mastersByName = this.pairs.ToDictionary(x => x.Name, x => x.Master);
    }

    public static bool Wanted(TrainingPrecision precision, Device device) =>
        precision == TrainingPrecision.BFloat16 || (precision == TrainingPrecision.Auto && device.type == DeviceType.CUDA);

    /// <summary>Converts the module to bf16 (its parameters become new objects) and makes the fp32 masters of
    /// <paramref name="trained"/>'s parameters, resolved again after the conversion by name.</summary>
    public static MixedPrecision Begin(IFineTunable trained)
    {
        var names = NamesOf(trained.Module, trained.BackboneParameters.Concat(trained.HeadParameters).Select(p => p.Parameter));
        // The masters start from the fp32 values, not from their bf16 rounding.
        var initial = new Dictionary<string, Tensor>();
        using (no_grad())
            foreach (var (name, p) in trained.Module.named_parameters())
                if (names.Contains(name)) initial[name] = p.detach().clone();
        trained.Module.to(bfloat16);
        var pairs = new List<(string, Parameter, Parameter)>();
        foreach (var (name, p) in trained.Module.named_parameters())
            if (initial.Remove(name, out var value)) pairs.Add((name, p, new Parameter(value, requires_grad: true)));
        return new MixedPrecision(trained.Module, pairs);
    }

    /// <summary>The fp32 master of one of the module's trained (bf16) parameters.</summary>
    public Parameter MasterOf(Parameter modelParameter) =>
        pairs.First(x => ReferenceEquals(x.Model, modelParameter)).Master;

    /// <summary>The masters, in the module's parameter order: what the optimizer updates and clipping measures.</summary>
    public IEnumerable<Parameter> Masters => pairs.Select(x => x.Master);

    /// <summary>master.grad += fp32(model.grad), so that gradients accumulated over several batches add up in fp32 (the
    /// caller clears the module's bf16 gradients after each batch); a parameter without a gradient (frozen this epoch)
    /// leaves its master without one, so the optimizer skips it.</summary>
    public void AddGradientsToMasters()
    {
        using var scope = NewDisposeScope();
        foreach (var (_, model, master) in pairs)
        {
            if (model.grad is not { } g) { master.grad = null; continue; }
            if (master.grad is { } sum) sum.add_(g.to(float32), KeptScalars.One);
            else master.grad = g.to(float32);
        }
    }

    /// <summary>Rounds the updated masters into the bf16 module.</summary>
    public void MastersToModel()
    {
        using var _ = no_grad();
        foreach (var (_, model, master) in pairs) model.copy_(master);
    }

    /// <summary>The module's state in fp32, trained parameters taken from the masters (CPU copies the caller owns):
    /// what best-weights snapshots and checkpoints keep.</summary>
    public Dictionary<string, Tensor> FullPrecisionState()
    {
        return module.state_dict().ToDictionary(kv => kv.Key, kv =>
        {
            var source = mastersByName.TryGetValue(kv.Key, out var m) ? m : kv.Value;
            var t = source.detach();
            return (t.is_floating_point() ? t.to(float32, CPU) : t.to(CPU)).clone().DetachFromDisposeScope();
        });
    }

    /// <summary>Back to fp32 with the masters' exact values (the parameters become new objects again).</summary>
    public void End()
    {
        module.to(float32);
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
            if (mastersByName.TryGetValue(name, out var master)) p.copy_(master);
    }

    public void Dispose()
    {
        foreach (var (_, _, master) in pairs) master.Dispose();
    }

    private static HashSet<string> NamesOf(nn.Module module, IEnumerable<Parameter> parameters)
    {
        var wanted = parameters.ToHashSet(ReferenceEqualityComparer.Instance);
        return module.named_parameters().Where(p => wanted.Contains(p.parameter)).Select(p => p.name).ToHashSet();
    }
}
