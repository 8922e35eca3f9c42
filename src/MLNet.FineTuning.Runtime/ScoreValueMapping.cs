using Microsoft.ML.Data;
using Microsoft.ML.Transforms;

namespace MLNet.FineTuning.Runtime;

/// <summary>
/// Turns the one-element float vector that a regression model's ONNX <c>score</c> output [batch, 1] becomes in ML.NET
/// into the scalar <c>Score</c> that ML.NET's regression evaluator and every regression trainer use. No public built-in
/// transform takes element 0 of a vector to a scalar (Microsoft.ML 5.0.1), so saved regressors carry this one
/// stateless step, found by its contract name when the model is loaded.
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class ScoreValueMapping : CustomMappingFactory<ScoreValueMapping.Input, ScoreValueMapping.Output>
{
    /// <summary>The contract name stored in saved models. Never change it: saved models refer to it.</summary>
    public const string ContractName = "MLNet.FineTuning.ScoreValue/1";

    /// <summary>Input column name: the ONNX graph's score output.</summary>
    public const string InputColumn = "score";

    /// <summary>Output column name: the scalar, copied to the user's score column and then dropped.</summary>
    public const string OutputColumn = "__MLNetFineTuning_ScoreValue";

    /// <summary>The ONNX output as ML.NET sees it: a float vector of length 1 per row.</summary>
    public sealed class Input
    {
        /// <summary>The predicted value.</summary>
        [ColumnName(InputColumn), VectorType(1)]
        public float[] Score { get; set; } = [];
    }

    /// <summary>The scalar.</summary>
    public sealed class Output
    {
        /// <summary>The predicted value.</summary>
        [ColumnName(OutputColumn)]
        public float Score { get; set; }
    }

    /// <summary>The mapping itself: element 0 (NaN for an empty vector, which a well-formed model never gives).</summary>
    public static void Map(Input input, Output output) =>
        output.Score = input.Score is { Length: > 0 } v ? v[0] : float.NaN;

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;
}
