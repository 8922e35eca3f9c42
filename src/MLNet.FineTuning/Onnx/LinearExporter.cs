using TorchSharp.Modules;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

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
        CheckShapes(weight, bias, name);
        using var scope = NewDisposeScope();
        string y = writer.MatMul(x, writer.AddTensorInitializer($"{name}.weight_t", weight.detach().t()));
        return bias is null ? y : writer.Add(y, writer.AddTensorInitializer($"{name}.bias", bias));
    }

    /// <summary>
    /// Appends x·Wᵀ + b with W quantized to int8 now and x quantized to uint8 at run time, in the standard ops of ONNX
    /// Runtime's dynamic quantization: DynamicQuantizeLinear(x) → MatMulInteger(x_q, W_q, x_zero_point) → Cast(float)
    /// → Mul(·, x_scale·w_scale) → Add(b).
    /// </summary>
    /// <remarks>
    /// The exact shape ONNX Runtime's <c>MatMulIntegerToFloatFusion</c> matches (onnxruntime/core/optimizer/
    /// matmul_integer_to_float.cc: Mul whose parents are Cast ← MatMulInteger and Mul(a_scale, b_scale), each with one
    /// consumer, then Add of a constant 1-D bias), after which <c>DynamicQuantizeMatMulFusion</c> folds the
    /// DynamicQuantizeLinear in (all three of its outputs feeding that one node), so one
    /// <c>com.microsoft.DynamicQuantizeMatMul</c> kernel runs per projection: u8·s8 GEMM (VNNI's vpdpbusd on AVX512-VNNI).
    /// Weights are symmetric per output column (zero point 0, scale max|W[:, j]|/127), so no weight zero point is
    /// written and a column of small weights keeps its resolution; the activation uses one scale per tensor (what
    /// DynamicQuantizeLinear gives), i.e. per batch.
    /// </remarks>
    public static string WriteInt8(OnnxGraphWriter writer, string x, Tensor weight, Tensor? bias, string name)
    {
        CheckShapes(weight, bias, name);
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU).t().contiguous();                   // [in, out]
        var scale = w.abs().amax([0]).div(127f).clamp_min(float.Epsilon);                        // [out]
        var quantized = w.div(scale).round().clamp(-127, 127).to(ScalarType.Int8).contiguous();
        string wq = writer.AddInt8Initializer($"{name}.weight_t_quantized", quantized.data<sbyte>().ToArray(), quantized.shape);
        string wScale = writer.AddTensorInitializer($"{name}.weight_scale", scale);

        var (xq, xScale, xZeroPoint) = writer.DynamicQuantizeLinear(x);
        string product = writer.Cast(writer.MatMulInteger(xq, wq, xZeroPoint), DataType.Float);
        string y = writer.Mul(product, writer.Mul(xScale, wScale));
        return bias is null ? y : writer.Add(y, writer.AddTensorInitializer($"{name}.bias", bias));
    }

    /// <summary>Appends the <c>Linear</c> <paramref name="module"/>; see the tensor overloads.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="x">Name of a float value [..., in].</param>
    /// <param name="module">A plain <c>Linear</c>.</param>
    /// <param name="name">The layer's qualified name, for initializer names and messages.</param>
    /// <param name="int8">Whether to write <see cref="WriteInt8"/>'s dynamically quantized form instead of float32.</param>
    /// <exception cref="NotSupportedException">
    /// <paramref name="module"/> is not a plain <c>Linear</c> (e.g. a LoRA wrapper that was not merged); the message
    /// names the layer and its type.
    /// </exception>
    public static string Write(OnnxGraphWriter writer, string x, nn.Module module, string name, bool int8 = false) =>
        module is not Linear linear
            ? throw new NotSupportedException(
                $"ONNX export: '{name}' is a {module.GetType().Name}; only a plain Linear is written. Merge adapters into their base layers before exporting.")
            : int8 ? WriteInt8(writer, x, linear.weight!, linear.bias, name)
            : Write(writer, x, linear.weight!, linear.bias, name);

    private static void CheckShapes(Tensor weight, Tensor? bias, string name)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2)
            throw new ArgumentException($"Linear '{name}': the weight must be [out, in]; got [{string.Join(",", weight.shape)}].", nameof(weight));
        if (bias is not null && (bias.dim() != 1 || bias.shape[0] != weight.shape[0]))
            throw new ArgumentException(
                $"Linear '{name}': the bias must be [{weight.shape[0]}] for a weight [{string.Join(",", weight.shape)}]; got [{string.Join(",", bias.shape)}].",
                nameof(bias));
    }
}
