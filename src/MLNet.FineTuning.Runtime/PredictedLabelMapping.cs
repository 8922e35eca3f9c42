using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime;

/// <summary>
/// Turns the one-element text vector that an ONNX <c>predicted_label</c> output becomes in ML.NET into a
/// scalar text column. ML.NET's OnnxTransformer cannot read rank-0 outputs and no public built-in
/// transform takes element 0 of a vector to a scalar (in Microsoft.ML 5.0.1), so saved models carry this one
/// stateless step, found by its contract name when the model is loaded.
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class PredictedLabelMapping : CustomMappingFactory<PredictedLabelMapping.Input, PredictedLabelMapping.Output>
{
    /// <summary>The contract name stored in saved models. Never change it: saved models refer to it.</summary>
    public const string ContractName = "MLNet.FineTuning.PredictedLabelText/1";

    /// <summary>Input column name: the ONNX graph's predicted-label output.</summary>
    public const string InputColumn = "predicted_label";

    /// <summary>Output column name: scalar text, consumed by MapValueToKey and then dropped.</summary>
    public const string OutputColumn = "__MLNetFineTuning_PredictedLabelText";

    /// <summary>The ONNX output as ML.NET sees it: a text vector of length 1 per row.</summary>
    public sealed class Input
    {
        /// <summary>The predicted class name.</summary>
        [ColumnName(InputColumn), VectorType(1)]
        public string[] PredictedLabel { get; set; } = [];
    }

    /// <summary>The scalar text.</summary>
    public sealed class Output
    {
        /// <summary>The predicted class name.</summary>
        [ColumnName(OutputColumn)]
        public string PredictedLabel { get; set; } = "";
    }

    /// <summary>The mapping itself: element 0, or empty text (a missing key after MapValueToKey).</summary>
    public static void Map(Input input, Output output) =>
        output.PredictedLabel = input.PredictedLabel is { Length: > 0 } v ? v[0] : "";

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;
}
