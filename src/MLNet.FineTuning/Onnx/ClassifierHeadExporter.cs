using MLNet.FineTuning.Modeling;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>Writes a <see cref="ClassifierHead"/> (mirrors Modeling/ClassifierHead.cs): one Gemm.</summary>
/// <remarks>
/// Dropout is the identity at inference, so only the Linear layer is written. Gemm rather than MatMul + Add:
/// the input is 2-D [N,F] here, Gemm takes the weight in TorchSharp's own [K,F] layout through
/// <c>transB=1</c> (no transposed copy) and adds the bias in the same kernel, one node instead of two.
/// MatMul + Add is for inputs of rank 3 and up (the BERT export), which Gemm does not accept.
/// </remarks>
internal static class ClassifierHeadExporter
{
    /// <summary>Appends the head to <paramref name="writer"/>.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="head">The head.</param>
    /// <param name="features">Name of a float value [N,F] with F = the head's input size.</param>
    /// <param name="output">Name for the logits value, or null for a generated one.</param>
    /// <returns>Name of the logits [N,K].</returns>
    public static string Write(OnnxGraphWriter writer, ClassifierHead head, string features, string? output = null)
    {
        using var scope = NewDisposeScope();
        var fc = head.Fc;
        string weight = writer.AddTensorInitializer("fc.weight", fc.weight!);
        string? bias = fc.bias is null ? null : writer.AddTensorInitializer("fc.bias", fc.bias);
        return writer.Gemm(features, weight, bias, transB: true, output: output);
    }
}
