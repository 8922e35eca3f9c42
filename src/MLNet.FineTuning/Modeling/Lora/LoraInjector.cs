using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Lora;

/// <summary>
/// Puts LoRA adapters into a <see cref="BertEncoder"/> in place (PEFT's <c>LoraModel</c> injection): every
/// <c>Linear</c> that a target name selects becomes a <see cref="LoraLinear"/> under the same name, and
/// <see cref="MarkOnlyActiveAdapterTrainable"/> decides, in this one place, what trains: the active adapter's
/// A and B, nothing else of the encoder. Several named adapters share the one base; switching among them
/// loads nothing.
/// </summary>
/// <remarks>
/// Load the pretrained weights before injecting: afterwards the targeted weights are named
/// <c>….query.base_layer.weight</c>, as in PEFT, and a plain BERT checkpoint no longer fits by name.
/// Target names are matched as PEFT matches them on <c>BertForSequenceClassification</c>
/// (<c>RobertaForSequenceClassification</c>), i.e. against <c>bert.</c> (<c>roberta.</c>) + the encoder's module name, so an
/// adapter_config.json means the same here and there.
/// </remarks>
internal sealed class LoraInjector
{
    /// <summary>PEFT's name for the first adapter.</summary>
    public const string DefaultAdapterName = "default";

    /// <summary>What PEFT's task models put before the encoder's module names: their <c>bert</c> or <c>roberta</c> field.</summary>
    public static IReadOnlyList<string> PeftEncoderPrefixes { get; } = [BertConfig.Bert + ".", BertConfig.Roberta + "."];

    /// <summary>This encoder's prefix among <see cref="PeftEncoderPrefixes"/> (<see cref="BertConfig.CheckpointPrefix"/>).</summary>
    public string PeftEncoderPrefix => Encoder.Config.CheckpointPrefix;

    private readonly List<(string Name, LoraLinear Module)> modules = [];
    private readonly Dictionary<string, LoraConfig> configs = new(StringComparer.Ordinal);
    private readonly List<string> adapterNames = [];
    private bool removed;

    private LoraInjector(BertEncoder encoder) => Encoder = encoder;

    /// <summary>
    /// Wraps the projections <paramref name="config"/> targets with an adapter <paramref name="adapterName"/>,
    /// makes it active, and freezes everything else.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid config or adapter name, or no module matches the targets.</exception>
    /// <exception cref="NotSupportedException">A target matches a module that is not a <c>Linear</c>; the message names it.</exception>
    /// <exception cref="InvalidOperationException">The encoder already has LoRA modules (use that injector's <see cref="AddAdapter"/>).</exception>
    public static LoraInjector Apply(BertEncoder encoder, LoraConfig config, string adapterName = DefaultAdapterName)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (encoder.named_modules().Any(m => m.module is LoraLinear))
            throw new InvalidOperationException("This BertEncoder already has LoRA modules; add adapters through the LoraInjector that put them in.");
        var injector = new LoraInjector(encoder);
        injector.AddAdapter(adapterName, config);
        injector.SetActiveAdapter(adapterName);
        return injector;
    }

    /// <summary>The encoder the adapters are in.</summary>
    public BertEncoder Encoder { get; }

    /// <summary>The LoRA modules with their qualified names (<c>encoder.layer.0.attention.self.query</c>), in network order.</summary>
    public IReadOnlyList<(string Name, LoraLinear Module)> Modules => modules;

    /// <summary>The adapters, in the order they were added.</summary>
    public IReadOnlyList<string> Adapters => adapterNames;

    /// <summary>The adapter <c>forward</c> uses, or null for the base alone.</summary>
    public string? ActiveAdapter { get; private set; }

    /// <summary>Whether the active adapter is folded into the base weights (<see cref="MergeAll"/>).</summary>
    public bool Merged => modules.Any(m => m.Module.Merged);

    /// <summary>The config <paramref name="adapterName"/> was added with.</summary>
    public LoraConfig Config(string adapterName) =>
        configs.TryGetValue(adapterName, out var c) ? c : throw new KeyNotFoundException($"No adapter named '{adapterName}'; there are: {string.Join(", ", adapterNames)}.");

    /// <summary>The modules that have <paramref name="adapterName"/> (an adapter may target fewer modules than another).</summary>
    public IEnumerable<(string Name, LoraLinear Module)> ModulesWith(string adapterName) =>
        modules.Where(m => m.Module.Adapters.Contains(adapterName));

    /// <summary>
    /// Adds another adapter (freshly initialised, output unchanged until trained) over the same base. It does
    /// not become active; modules it targets that are still plain get wrapped.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid config, a name in use or with a dot, or no module matches.</exception>
    /// <exception cref="NotSupportedException">A target matches a module that is not a <c>Linear</c>.</exception>
    public void AddAdapter(string adapterName, LoraConfig config)
    {
        CheckNotRemoved();
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (Merged) throw new InvalidOperationException($"Adapter '{ActiveAdapter}' is merged into the base weights; unmerge before adding '{adapterName}'.");
        if (configs.ContainsKey(adapterName)) throw new ArgumentException($"An adapter named '{adapterName}' already exists.", nameof(adapterName));
        if (string.IsNullOrEmpty(adapterName) || adapterName.Contains('.'))
            throw new ArgumentException($"An adapter name must be non-empty and without dots; got '{adapterName}'.", nameof(adapterName));

        // Find everything first, so that an unsupported target leaves the encoder untouched.
        var targets = FindTargets(config);
        foreach (var (name, module) in targets)
        {
            var lora = module as LoraLinear;
            if (lora is null)
            {
                lora = new LoraLinear((Linear)module, name);
                Encoder.ReplaceModule(name, lora);
                modules.Add((name, lora));
            }
            lora.AddAdapter(adapterName, config);
            // LoraLinear activates its first adapter; here only SetActiveAdapter decides.
            lora.SetActiveAdapter(ActiveAdapter);
        }
        var order = Encoder.named_modules().Select((m, i) => (m.name, i)).ToDictionary(x => x.name, x => x.i);
        modules.Sort((x, y) => order[x.Name].CompareTo(order[y.Name]));
        configs.Add(adapterName, config);
        adapterNames.Add(adapterName);
        MarkOnlyActiveAdapterTrainable();
    }

    /// <summary>Makes <paramref name="adapterName"/> the one <c>forward</c> adds and the one that trains (null: the base alone, nothing trains).</summary>
    /// <exception cref="KeyNotFoundException">No such adapter.</exception>
    /// <exception cref="InvalidOperationException">Adapters are merged; unmerge first.</exception>
    public void SetActiveAdapter(string? adapterName)
    {
        CheckNotRemoved();
        if (adapterName is not null) Config(adapterName);
        if (Merged && adapterName != ActiveAdapter)
            throw new InvalidOperationException($"Adapter '{ActiveAdapter}' is merged into the base weights; unmerge before switching to '{adapterName}'.");
        foreach (var (_, m) in modules) m.SetActiveAdapter(adapterName);
        ActiveAdapter = adapterName;
        MarkOnlyActiveAdapterTrainable();
    }

    /// <summary>
    /// The one place that decides what trains (PEFT's <c>_mark_only_adapters_as_trainable</c> plus its
    /// <c>set_adapter</c>): every parameter of the encoder is frozen, then the active adapter's A and B are not.
    /// </summary>
    public void MarkOnlyActiveAdapterTrainable()
    {
        foreach (var (_, p) in Encoder.named_parameters()) p.requires_grad = false;
        if (ActiveAdapter is null) return;
        foreach (var (_, m) in ModulesWith(ActiveAdapter))
        {
            m.LoraA(ActiveAdapter).weight!.requires_grad = true;
            m.LoraB(ActiveAdapter).weight!.requires_grad = true;
        }
    }

    /// <summary>The parameters that train (the active adapter's), with their encoder names; the training loop's "backbone" group.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> TrainableParameters() =>
        Encoder.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();

    /// <summary>How many numbers train: for each targeted module r × (in + out).</summary>
    public long TrainableParameterCount => TrainableParameters().Sum(p => p.Parameter.numel());

    /// <summary>Folds the active adapter into every base weight it targets; all or nothing (a NaN/Inf in one module unmerges the others).</summary>
    /// <exception cref="InvalidOperationException">Already merged, or a merged weight is not finite (the message names the module).</exception>
    public void MergeAll()
    {
        CheckNotRemoved();
        if (Merged) throw new InvalidOperationException($"Adapter '{ActiveAdapter}' is already merged.");
        var done = new List<LoraLinear>();
        try
        {
            foreach (var (_, m) in modules)
            {
                m.Merge();
                done.Add(m);
            }
        }
        catch
        {
            foreach (var m in done) m.Unmerge();
            throw;
        }
    }

    /// <summary>Takes the merged adapter out of every base weight again.</summary>
    public void UnmergeAll()
    {
        CheckNotRemoved();
        foreach (var (_, m) in modules) m.Unmerge();
    }

    /// <summary>
    /// Takes LoRA out: every <see cref="LoraLinear"/> is replaced by its base <c>Linear</c> under the same name,
    /// and the adapters are disposed. With <paramref name="merge"/> the active adapter is folded in first (PEFT's
    /// <c>merge_and_unload</c>: a plain encoder that computes what the adapted one did); without, the base weights
    /// are restored (<c>unload</c>). Parameters stay frozen. This injector cannot be used afterwards.
    /// </summary>
    public void Remove(bool merge = false)
    {
        CheckNotRemoved();
        if (merge && !Merged) MergeAll();
        if (!merge) UnmergeAll();
        foreach (var (name, m) in modules)
        {
            var baseLayer = m.DetachBaseLayer();
            Encoder.ReplaceModule(name, baseLayer);
            m.Dispose();
        }
        modules.Clear();
        removed = true;
    }

    /// <summary>
    /// The modules <paramref name="config"/> selects: every module of the encoder (not those inside a LoRA
    /// wrapper) whose PEFT name (<c>bert.</c> + name) a target selects.
    /// </summary>
    private List<(string Name, Module Module)> FindTargets(LoraConfig config)
    {
        var all = Encoder.named_modules().Where(m => m.name.Length > 0).ToList();
        var wrappers = all.Where(m => m.module is LoraLinear).Select(m => m.name + ".").ToList();
        var matched = all
            .Where(m => !wrappers.Any(w => m.name.StartsWith(w, StringComparison.Ordinal)))
            .Where(m => config.TargetModules.Any(t => LoraTargetModules.Matches(t, PeftEncoderPrefix + m.name)))
            .ToList();
        if (matched.Count == 0)
            throw new ArgumentException(
                $"TargetModules (target_modules) [{string.Join(", ", config.TargetModules)}] match no module of the BertEncoder; " +
                $"use names such as {LoraTargetModules.Query}, {LoraTargetModules.Value}, {LoraTargetModules.Intermediate}.",
                nameof(config));
        var unsupported = matched.Where(m => m.module is not (TorchSharp.Modules.Linear or LoraLinear))
            .Select(m => $"'{m.name}' ({m.module.GetType().Name}, selected by " +
                         $"'{config.TargetModules.First(t => LoraTargetModules.Matches(t, PeftEncoderPrefix + m.name))}')")
            .ToList();
        if (unsupported.Count > 0)
            throw new NotSupportedException(
                $"LoRA here supports Linear modules only; TargetModules selects {string.Join(", ", unsupported)}.");
        return matched;
    }

    private void CheckNotRemoved()
    {
        if (removed) throw new InvalidOperationException("LoRA was removed from this encoder; inject again to use adapters.");
    }
}
