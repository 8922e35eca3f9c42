using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Lora;

/// <summary>
/// Modules keyed by adapter name, registered under that name, so that a <see cref="LoraLinear"/>'s parameters
/// are <c>lora_A.default.weight</c>, <c>lora_A.b.weight</c>, … as in PEFT's <c>nn.ModuleDict</c>.
/// </summary>
/// <remarks>
/// TorchSharp's own <c>ModuleDict</c> registers its entries once, when its parent registers it: an entry added
/// later (a second adapter) would be used by <c>forward</c> but missing from <c>named_parameters()</c>, hence
/// from optimizers and state_dicts. This one registers on each <see cref="Add"/>.
/// </remarks>
internal sealed class AdapterModules<T> : Module where T : Module
{
    private readonly Dictionary<string, T> entries = new(StringComparer.Ordinal);

    public AdapterModules() : base("ModuleDict")
    {
    }

    public T this[string adapterName] => entries[adapterName];

    public bool Contains(string adapterName) => entries.ContainsKey(adapterName);

    public void Add(string adapterName, T module)
    {
        if (!entries.TryAdd(adapterName, module))
            throw new ArgumentException($"An adapter named '{adapterName}' already exists.", nameof(adapterName));
        register_module(adapterName, module);
    }

    /// <summary>Unregisters and returns the module of <paramref name="adapterName"/>; the caller disposes it.</summary>
    public T Remove(string adapterName)
    {
        var module = entries[adapterName];
        entries.Remove(adapterName);
        register_module(adapterName, null!);
        return module;
    }

    /// <summary>Nothing to find by reflection: entries are registered by <see cref="Add"/>.</summary>
    protected override void RegisterComponents()
    {
    }
}
