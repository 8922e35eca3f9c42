using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>
/// A module whose <c>Linear</c> children can be swapped by name (LoRA wraps <c>query</c>, <c>value</c>, … in
/// place, as peft does), so that both its field — what <c>forward</c> calls — and its registration — what
/// <c>named_parameters()</c> reports — change together.
/// </summary>
internal interface IReplaceableChildren
{
    /// <summary>Puts <paramref name="replacement"/> where the child <paramref name="name"/> was; returns the old child.</summary>
    /// <exception cref="NotSupportedException">The child is not a projection (Linear slot).</exception>
    Module<Tensor, Tensor> ReplaceChild(string name, Module<Tensor, Tensor> replacement);

    /// <summary>
    /// Re-registers <paramref name="name"/> on <paramref name="parent"/> without changing the order of its
    /// children. TorchSharp's <c>register_module</c> refuses a name that is taken and appends a new one at
    /// the end, so the child and every later one are unregistered and registered again in their order;
    /// parameter order (optimizer groups, state_dict) then stays what a fresh module has.
    /// </summary>
    static void Reregister(Module parent, string name, Module replacement)
    {
        var children = parent.named_children().ToList();
        int index = children.FindIndex(c => c.name == name);
        if (index < 0) throw new ArgumentException($"'{parent.GetName()}' has no child named '{name}'.", nameof(name));
        foreach (var (child, _) in children.Skip(index)) parent.register_module(child, null!);
        parent.register_module(name, replacement);
        foreach (var (child, module) in children.Skip(index + 1)) parent.register_module(child, module);
    }
}
