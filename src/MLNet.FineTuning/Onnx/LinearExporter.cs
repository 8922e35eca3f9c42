using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a linear projection y = x·Wᵀ + b on an input of any rank ≥ 2 (TorchSharp's <c>Linear</c>): MatMul
/// by the transposed weight, then Add of the bias.
/// </summary>
/// <remarks>
/// MatMul + Add rather than Gemm: Gemm accepts 2-D inputs only, so a [batch, sequence, hidden] input would
/// need a Reshape to [batch·sequence, hidden] and another one back around every projection, two more nodes
/// each; MatMul broadcasts over the leading axes as TorchSharp's <c>linear</c> does, and ONNX Runtime fuses
/// MatMul + Add into one kernel itself. The weight is stored transposed ([in, out], as PyTorch's own ONNX
/// export stores it) so that no Transpose node runs at inference. For 2-D inputs with the weight as
/// stored by TorchSharp, <see cref="ClassifierHeadExporter"/> uses Gemm.
/// </remarks>
internal static class LinearExporter
{
    /// <summary>
    /// Appends x·Wᵀ + b from the given tensors, so a caller can pass weights that no module holds as such
    /// (LoRA's base weight + B·A·scaling, merged).
    /// </summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="x">Name of a float value [..., in].</param>
    /// <param name="weight">[out, in], TorchSharp's layout (any dtype or device; written as float32).</param>
    /// <param name="bias">[out], or null for none.</param>
    /// <param name="name">The layer's qualified name, for initializer names and messages.</param>
    /// <returns>Name of the result [..., out].</returns>
    /// <exception cref="ArgumentException">The shapes do not fit (the message gives them).</exception>
    public static string Write(OnnxGraphWriter writer, string x, Tensor weight, Tensor? bias, string name)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2)
            throw new ArgumentException($"Linear '{name}': the weight must be [out, in]; got [{string.Join(",", weight.shape)}].", nameof(weight));
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new ArgumentException(
                $"Linear '{name}': the bias must be [{weight.shape[0]}] for a weight [{string.Join(",", weight.shape)}]; got [{string.Join(",", bias.shape)}].",
                nameof(bias));
        using var scope = NewDisposeScope();
        string y = writer.MatMul(x, writer.AddTensorInitializer($"{name}.weight_t", weight.detach().t()));
        return bias is null ? y : writer.Add(y, writer.AddTensorInitializer($"{name}.bias", bias));
    }

    /// <summary>Appends the <c>Linear</c> <paramref name="module"/>; see the tensor overload.</summary>
    /// <exception cref="NotSupportedException">
    /// <paramref name="module"/> is not a plain <c>Linear</c> (e.g. a LoRA wrapper that was not merged); the message
    /// names the layer and its type.
    /// </exception>
    public static string Write(OnnxGraphWriter writer, string x, nn.Module module, string name) =>
        module is Linear linear
            ? Write(writer, x, linear.weight!, linear.bias, name)
            : throw new NotSupportedException(
                $"ONNX export: '{name}' is a {module.GetType().Name}; only a plain Linear is written. Merge adapters into their base layers before exporting.");
}
