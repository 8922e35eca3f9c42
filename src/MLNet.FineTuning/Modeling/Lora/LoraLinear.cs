using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Lora;

/// <summary>
/// A frozen <c>Linear</c> with low-rank adapters beside it (PEFT's <c>lora.Linear</c>,
/// <c>src/peft/tuners/lora/layer.py</c>): <c>base_layer(x) + lora_B(lora_A(lora_dropout(x))) · scaling</c>
/// for the active adapter. Parameters are named as in PEFT's live modules: <c>base_layer.weight</c>,
/// <c>base_layer.bias</c>, <c>lora_A.&lt;adapter&gt;.weight</c> [r, in], <c>lora_B.&lt;adapter&gt;.weight</c> [out, r].
/// </summary>
/// <remarks>
/// Several named adapters can share the one base layer; <see cref="SetActiveAdapter"/> picks the one
/// <c>forward</c> adds (none: the base alone, also for an adapter this module does not have, as in PEFT).
/// <see cref="Merge"/> folds the active adapter into the base weight, so the layer runs, and exports, as a
/// plain linear layer; <see cref="Unmerge"/> takes it out again. Freezing is the caller's decision
/// (<see cref="LoraInjector"/> makes it in one place); this module only computes.
/// </remarks>
internal sealed class LoraLinear : Module<Tensor, Tensor>
{
    // Registration order is PEFT's: base_layer, lora_dropout, lora_A, lora_B.
    private readonly Linear base_layer;
    private readonly AdapterModules<Module<Tensor, Tensor>> lora_dropout;
    private readonly AdapterModules<Linear> lora_A;
    private readonly AdapterModules<Linear> lora_B;
    private readonly Dictionary<string, LoraConfig> configs = new(StringComparer.Ordinal);
    private readonly List<string> adapterNames = [];

    /// <summary>Wraps <paramref name="baseLayer"/>, with no adapter yet (<see cref="AddAdapter"/> adds one).</summary>
    /// <param name="baseLayer">The pretrained projection. It becomes <c>base_layer</c>; its tensors are shared, not copied.</param>
    /// <param name="moduleName">Its qualified name in the network (<c>encoder.layer.0.attention.self.query</c>), for messages.</param>
    public LoraLinear(Linear baseLayer, string moduleName) : base(nameof(LoraLinear))
    {
        base_layer = baseLayer ?? throw new ArgumentNullException(nameof(baseLayer));
        ModuleName = moduleName ?? throw new ArgumentNullException(nameof(moduleName));
        lora_dropout = new AdapterModules<Module<Tensor, Tensor>>();
        lora_A = new AdapterModules<Linear>();
        lora_B = new AdapterModules<Linear>();
        RegisterComponents();
        // A new module starts in training mode; an encoder already in eval mode must not get active dropout.
        train(baseLayer.training);
    }

    /// <summary>The qualified name of the wrapped projection, used in messages.</summary>
    public string ModuleName { get; }

    /// <summary>The wrapped projection (<c>base_layer</c>).</summary>
    public Linear BaseLayer => base_layer;

    /// <summary>Input features of the base layer.</summary>
    public long InFeatures => base_layer.in_features;

    /// <summary>Output features of the base layer.</summary>
    public long OutFeatures => base_layer.out_features;

    /// <summary>The adapters of this module, in the order they were added.</summary>
    public IReadOnlyList<string> Adapters => adapterNames;

    /// <summary>The adapter <c>forward</c> adds, or null for the base layer alone.</summary>
    public string? ActiveAdapter { get; private set; }

    /// <summary>The adapter folded into the base weight, or null when none is (<see cref="Merge"/>).</summary>
    public string? MergedAdapter { get; private set; }

    /// <summary>Whether an adapter is folded into the base weight; <c>forward</c> then adds nothing more.</summary>
    public bool Merged => MergedAdapter is not null;

    /// <summary>The hyper-parameters <paramref name="adapterName"/> was added with.</summary>
    /// <exception cref="KeyNotFoundException">No such adapter.</exception>
    public LoraConfig Config(string adapterName) => configs.TryGetValue(adapterName, out var c) ? c : throw NoAdapter(adapterName);

    /// <summary>The factor on <c>B·A·x</c> of <paramref name="adapterName"/>: alpha / r, or alpha / √r with rsLoRA.</summary>
    public double Scaling(string adapterName) => Config(adapterName).Scaling;

    /// <summary><c>lora_A.&lt;adapter&gt;</c>: in → r, no bias.</summary>
    public Linear LoraA(string adapterName) => lora_A.Contains(adapterName) ? lora_A[adapterName] : throw NoAdapter(adapterName);

    /// <summary><c>lora_B.&lt;adapter&gt;</c>: r → out, no bias.</summary>
    public Linear LoraB(string adapterName) => lora_B.Contains(adapterName) ? lora_B[adapterName] : throw NoAdapter(adapterName);

    /// <summary>
    /// Adds an adapter initialised as PEFT's <c>init_lora_weights=True</c>: A Kaiming-uniform with a = √5 (what
    /// <c>nn.Linear</c> does to its weight), B zeros, so the layer's output is the base's until B is trained.
    /// The first adapter added becomes active. A and B take the base weight's device and dtype.
    /// </summary>
    /// <param name="adapterName">A name without dots (it becomes a key segment), unique in this module.</param>
    /// <param name="config">Rank, alpha, dropout and rsLoRA; its target modules are not used here.</param>
    /// <exception cref="ArgumentException">Invalid config, a name with a dot or empty, or one already used.</exception>
    public void AddAdapter(string adapterName, LoraConfig config)
    {
        CheckAdapterName(adapterName);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (configs.ContainsKey(adapterName))
            throw new ArgumentException($"'{ModuleName}' already has an adapter named '{adapterName}'.", nameof(adapterName));
        var weight = base_layer.weight ?? throw new InvalidOperationException($"'{ModuleName}' has no weight.");
        var a = Linear(InFeatures, config.Rank, hasBias: false, device: weight.device, dtype: weight.dtype);
        var b = Linear(config.Rank, OutFeatures, hasBias: false, device: weight.device, dtype: weight.dtype);
        using (no_grad())
        {
            // PEFT's reset_lora_parameters for init_lora_weights=True (kaiming_uniform_(a=sqrt(5)), zeros_).
            init.kaiming_uniform_(a.weight!, a: Math.Sqrt(5));
            init.zeros_(b.weight!);
        }
        // PEFT uses nn.Identity for a dropout of 0: nothing to run, and nothing random.
        Module<Tensor, Tensor> dropout = config.Dropout > 0 ? Dropout(config.Dropout) : Identity();
        dropout.train(training);
        lora_dropout.Add(adapterName, dropout);
        lora_A.Add(adapterName, a);
        lora_B.Add(adapterName, b);
        configs.Add(adapterName, config);
        adapterNames.Add(adapterName);
        ActiveAdapter ??= adapterName;
    }

    /// <summary>Removes an adapter and disposes its tensors. The active one falls back to none; a merged one is unmerged first.</summary>
    /// <exception cref="KeyNotFoundException">No such adapter.</exception>
    public void DeleteAdapter(string adapterName)
    {
        if (!configs.ContainsKey(adapterName)) throw NoAdapter(adapterName);
        if (MergedAdapter == adapterName) Unmerge();
        lora_dropout.Remove(adapterName).Dispose();
        lora_A.Remove(adapterName).Dispose();
        lora_B.Remove(adapterName).Dispose();
        configs.Remove(adapterName);
        adapterNames.Remove(adapterName);
        if (ActiveAdapter == adapterName) ActiveAdapter = null;
    }

    /// <summary>Chooses the adapter <c>forward</c> adds; null, or a name this module lacks, gives the base alone.</summary>
    /// <exception cref="InvalidOperationException">An adapter is merged: unmerge it first, or the base weight would keep it.</exception>
    public void SetActiveAdapter(string? adapterName)
    {
        if (Merged && adapterName != MergedAdapter)
            throw new InvalidOperationException(
                $"'{ModuleName}' has adapter '{MergedAdapter}' merged into its weight; unmerge it before activating '{adapterName}'.");
        ActiveAdapter = adapterName;
    }

    /// <summary>
    /// <c>B·A · scaling</c> [out, in] of <paramref name="adapterName"/>: what merging adds to the base weight
    /// (PEFT's <c>get_delta_weight</c>). A fresh tensor, without gradient history.
    /// </summary>
    public Tensor DeltaWeight(string adapterName)
    {
        var a = LoraA(adapterName);
        var b = LoraB(adapterName);
        using var _ = no_grad();
        using var scaling = KeptScalars.Of(Scaling(adapterName));
        return b.weight!.matmul(a.weight!).mul_(scaling);
    }

    /// <summary>
    /// Folds the active adapter into the base weight (PEFT's <c>merge(safe_merge=True)</c>): the merged weight
    /// is computed aside and checked before it replaces the base weight. Does nothing without an active adapter
    /// of this module.
    /// </summary>
    /// <exception cref="InvalidOperationException">Already merged; or the merged weight has NaN or infinite values
    /// (the message names the module and the adapter, and the base weight is left as it was).</exception>
    public void Merge()
    {
        if (Merged) throw new InvalidOperationException($"'{ModuleName}' already has adapter '{MergedAdapter}' merged.");
        if (ActiveAdapter is null || !configs.ContainsKey(ActiveAdapter)) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var weight = base_layer.weight!;
        var merged = weight.add(DeltaWeight(ActiveAdapter), KeptScalars.One);
        if (!isfinite(merged).all().item<bool>())
            throw new InvalidOperationException(
                $"Merging adapter '{ActiveAdapter}' into '{ModuleName}' gives NaN or infinite weights; the adapter seems broken. Nothing was merged.");
        weight.copy_(merged);
        MergedAdapter = ActiveAdapter;
    }

    /// <summary>Takes the merged adapter out of the base weight again (PEFT's <c>unmerge</c>): the weight is the base's
    /// up to rounding (a subtraction, ~1e-7 relative in fp32). Does nothing when nothing is merged.</summary>
    public void Unmerge()
    {
        if (MergedAdapter is null) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        base_layer.weight!.sub_(DeltaWeight(MergedAdapter));
        MergedAdapter = null;
    }

    /// <summary>x [..., in] → [..., out]: the base layer plus the active adapter's update, unless it is merged.</summary>
    public override Tensor forward(Tensor x)
    {
        if (Merged || ActiveAdapter is null || !configs.ContainsKey(ActiveAdapter)) return base_layer.forward(x);
        using var scope = NewDisposeScope();
        var update = lora_B[ActiveAdapter].forward(lora_A[ActiveAdapter].forward(lora_dropout[ActiveAdapter].forward(x)));
        using var scaling = KeptScalars.Of(Scaling(ActiveAdapter));
        return base_layer.forward(x).add_(update.mul_(scaling), KeptScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Unregisters the base layer and returns it, so that disposing this wrapper disposes only the adapters.
    /// Used when LoRA is removed and the plain projection goes back in place.
    /// </summary>
    internal Linear DetachBaseLayer()
    {
        register_module(nameof(base_layer), null!);
        return base_layer;
    }

    private static void CheckAdapterName(string adapterName)
    {
        if (string.IsNullOrEmpty(adapterName) || adapterName.Contains('.'))
            throw new ArgumentException($"An adapter name must be non-empty and without dots (it is a key segment); got '{adapterName}'.",
                nameof(adapterName));
    }

    private KeyNotFoundException NoAdapter(string adapterName) =>
        new($"'{ModuleName}' has no adapter named '{adapterName}'; it has: {(adapterNames.Count == 0 ? "none" : string.Join(", ", adapterNames))}.");
}
