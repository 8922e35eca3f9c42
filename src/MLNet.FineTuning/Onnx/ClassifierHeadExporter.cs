using System.Text.Json;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Runtime.Onnx;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

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

    /// <summary>
    /// Appends what every exported classifier ends with (<see cref="ExportedModelContract"/>): probabilities (softmax),
    /// predicted index (argmax of the logits, not of the probabilities: softmax can round two close logits to one
    /// float) and predicted label (the class name at that index) as the graph's outputs, and the task and class names
    /// as the model's metadata, so a service knows what the file is without the training library.
    /// </summary>
    public static void WriteOutputs(OnnxGraphWriter writer, string logits, IReadOnlyList<string> classNames, string task)
    {
        int k = classNames.Count;
        writer.Softmax(logits, axis: 1, output: ExportedModelContract.ProbabilitiesOutput);
        writer.ArgMax(logits, axis: 1, keepDims: false, output: ExportedModelContract.PredictedIndexOutput);
        string names = writer.AddStringInitializer("class_names", classNames, k);
        writer.Gather(names, ExportedModelContract.PredictedIndexOutput, axis: 0, output: ExportedModelContract.PredictedLabelOutput);

        writer.AddOutput(ExportedModelContract.ProbabilitiesOutput, DataType.Float, ExportedModelContract.BatchDim, k);
        writer.AddOutput(ExportedModelContract.PredictedIndexOutput, DataType.Int64, ExportedModelContract.BatchDim);
        writer.AddOutput(ExportedModelContract.PredictedLabelOutput, DataType.String, ExportedModelContract.BatchDim);
        writer.SetMetadata(ExportedModelContract.TaskKey, task);
        writer.SetMetadata(ExportedModelContract.ClassNamesKey, JsonSerializer.Serialize(classNames));
        writer.SetMetadata(ExportedModelContract.OpsetKey, writer.Opset.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
