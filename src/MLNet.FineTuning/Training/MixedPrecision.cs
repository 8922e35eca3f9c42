using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// bf16 mixed precision without autocast (TorchSharp 0.107 has none): the module is converted to bf16 for the
/// forward and backward passes, and every trained parameter gets an fp32 master copy that the optimizer owns.
/// Each step copies the bf16 gradients to the masters, the optimizer updates the masters, and the masters are
/// rounded back into the module. <see cref="End"/> returns the module to fp32 holding the masters' exact values.
/// Once the optimizer exists (<see cref="MirrorBuffers"/>), the module's bf16 parameters and gradients are views of bf16
/// buffers laid out as FlatAdamW's fp32 ones, so that each of those copies is one operation per parameter group instead
/// of one or two per parameter (on a GPU, about 190 kernel launches fewer per ResNet-18 step); the arithmetic is the same,
/// element for element.
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

    /// <summary>One FlatAdamW group's bf16 mirror: the module's parameters and gradients of the group as views of
    /// <see cref="Weights"/> and <see cref="Gradients"/>, at the offsets of the group's fp32 buffers.</summary>
    private sealed record Mirror(Tensor Weights, Tensor Gradients, Tensor MasterWeights, Tensor MasterGradients, (Parameter Model, Parameter Master)[] Members);

    private List<Mirror>? mirrors;
    private FlatAdamW? flatOptimizer;
    /// <summary>Masters whose gradient is their view of the optimizer's buffer (the others have none: frozen).</summary>
    private readonly HashSet<Parameter> mastersWithGradient = new(ReferenceEqualityComparer.Instance);

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
                if (names.Contains(name)) initial[name] = TensorCopies.Detached(p);
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

    /// <summary>Lays the module's trained bf16 parameters and their gradients out as views of bf16 buffers mirroring
    /// <paramref name="optimizer"/>'s groups (whose parameters are the masters), so that <see cref="AddGradientsToMasters"/>
    /// and <see cref="MastersToModel"/> are one operation per group.</summary>
    public void MirrorBuffers(FlatAdamW optimizer)
    {
        using var _ = no_grad();
        var modelOf = new Dictionary<Parameter, Parameter>(ReferenceEqualityComparer.Instance);
        foreach (var (_, model, master) in pairs) modelOf[master] = model;
        mirrors = [];
        foreach (var (masters, offsets, masterWeights, masterGradients) in optimizer.Buffers)
        {
            var weights = empty(offsets[^1], dtype: bfloat16, device: masterWeights.device);
            var gradients = zeros(offsets[^1], dtype: bfloat16, device: masterWeights.device);
            var members = new (Parameter, Parameter)[masters.Length];
            for (int i = 0; i < masters.Length; i++)
            {
                var model = modelOf[masters[i]];
                // The master's strides (a copy of the fp32 parameter), so that element k of one buffer is element k of the other.
                using (var view = weights.as_strided(model.shape, masters[i].stride(), offsets[i]))
                {
                    view.copy_(model);
                    model.set_(view);
                }
                // Kept in a local through the setter's native call (docs/scalar-lifetime.md).
                using (var gradient = gradients.as_strided(model.shape, masters[i].stride(), offsets[i]))
                    model.grad = gradient;
                members[i] = (model, masters[i]);
            }
            mirrors.Add(new Mirror(weights, gradients, masterWeights, masterGradients, members));
        }
        flatOptimizer = optimizer;
    }

    /// <summary>master.grad += fp32(model.grad), so that gradients accumulated over several batches add up in fp32, then
    /// clears the module's bf16 gradients; a parameter without a gradient (frozen this epoch) leaves its master without
    /// one, so the optimizer skips it. Mirrored (<see cref="MirrorBuffers"/>), a parameter is frozen when it does not
    /// require a gradient, and the sums are one addition per group over the buffers.</summary>
    public void AddGradientsToMasters()
    {
        if (mirrors != null)
        {
            using var _ = no_grad();
            foreach (var mirror in mirrors)
            {
                foreach (var (model, master) in mirror.Members)
                {
                    bool trained = model.requires_grad;
                    if (trained && mastersWithGradient.Add(master)) flatOptimizer!.GradientIsBufferView(master);
                    else if (!trained && mastersWithGradient.Remove(master)) master.grad = null;
                }
                mirror.MasterGradients.add_(mirror.Gradients, KeptScalars.One);
                mirror.Gradients.zero_();
            }
            return;
        }
        AddGradientsOneByOne();
        module.zero_grad();
    }

    private void AddGradientsOneByOne()
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
        if (mirrors != null)
            foreach (var mirror in mirrors) mirror.Weights.copy_(mirror.MasterWeights);
        else
            foreach (var (_, model, master) in pairs) model.copy_(master);
    }

    /// <summary>The module's state in fp32, trained parameters taken from the masters (CPU copies the caller owns):
    /// what best-weights snapshots and checkpoints keep.</summary>
    public Dictionary<string, Tensor> FullPrecisionState()
    {
        return module.state_dict().ToDictionary(kv => kv.Key, kv =>
        {
            var source = mastersByName.TryGetValue(kv.Key, out var m) ? m : kv.Value;
            return TensorCopies.Detached(source, source.is_floating_point() ? float32 : null, CPU);
        });
    }

    /// <summary>Back to fp32 with the masters' exact values (the parameters become new objects again).</summary>
    public void End()
    {
        module.to(float32);   // new fp32 parameters: the mirrors are no longer the module's
        DisposeMirrors();
        using var _ = no_grad();
        foreach (var (name, p) in module.named_parameters())
            if (mastersByName.TryGetValue(name, out var master)) p.copy_(master);
    }

    public void Dispose()
    {
        DisposeMirrors();
        foreach (var (_, _, master) in pairs) master.Dispose();
    }

    private void DisposeMirrors()
    {
        foreach (var mirror in mirrors ?? [])
        {
            mirror.Weights.Dispose();
            mirror.Gradients.Dispose();
        }
        mirrors = null;
    }

    private static HashSet<string> NamesOf(nn.Module module, IEnumerable<Parameter> parameters)
    {
        var wanted = parameters.ToHashSet(ReferenceEqualityComparer.Instance);
        return module.named_parameters().Where(p => wanted.Contains(p.parameter)).Select(p => p.name).ToHashSet();
    }
}
