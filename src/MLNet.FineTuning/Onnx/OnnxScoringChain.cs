using Microsoft.ML;
using MLNet.FineTuning.Runtime;
using MLNet.FineTuning.Runtime.Onnx;

namespace MLNet.FineTuning.Onnx;

/// <summary>What a modality puts before the ONNX model in a saved chain: its input steps (image pixels, or tokenization),
/// the ONNX inputs they make and those inputs' shapes, and the intermediate columns to drop afterwards.</summary>
internal sealed record ScoringInput(IEstimator<ITransformer> Steps, IReadOnlyList<string> OnnxInputs, IReadOnlyDictionary<string, int[]> Shapes,
                                    IReadOnlyList<string> Columns);

/// <summary>
/// The part of a saved model that every estimator shares, after its modality's input steps (<see cref="ScoringInput"/>):
/// ApplyOnnxModel over the exported graph (bytes stored in model.zip) → the task's output columns → drop every intermediate
/// column. All public ML.NET components and the runtime package's stateless mappings, so model.zip loads without this library.
/// </summary>
internal static class OnnxScoringChain
{
    /// <summary>A classifier: <c>Score</c> ← <c>probabilities</c>; the 1-element <c>predicted_label</c> text to a scalar (the
    /// runtime package's mapping: ML.NET's OnnxTransformer maps tensors to vectors only and cannot read rank-0 outputs) →
    /// <c>PredictedLabel</c> as a key over the training class names, in key order.</summary>
    public static OnnxScoring Fit(MLContext ml, IDataView input, ScoringInput from, byte[] onnx, IReadOnlyList<string> classNames,
        string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassName { Value = c }));
        string probabilities = ExportedModelContract.ProbabilitiesOutput;
        var outputs = ml.Transforms.CopyColumns(scoreColumn, probabilities)
            .Append(ml.Transforms.CustomMapping<PredictedLabelMapping.Input, PredictedLabelMapping.Output>(PredictedLabelMapping.Map, PredictedLabelMapping.ContractName))
            .Append(ml.Transforms.Conversion.MapValueToKey(predictedLabelColumn, PredictedLabelMapping.OutputColumn, keyData: keyData));
        return Fit(ml, input, from, onnx, [probabilities, PredictedLabelMapping.InputColumn], outputs, [PredictedLabelMapping.OutputColumn], gpuDeviceId, fallbackToCpu);
    }

    /// <summary>A regressor: the 1-element <c>score</c> to the scalar <c>Score</c> (the runtime package's <see cref="ScoreValueMapping"/>).</summary>
    public static OnnxScoring FitRegression(MLContext ml, IDataView input, ScoringInput from, byte[] onnx, string scoreColumn,
        int? gpuDeviceId, bool fallbackToCpu)
    {
        var outputs = ml.Transforms.CustomMapping<ScoreValueMapping.Input, ScoreValueMapping.Output>(ScoreValueMapping.Map, ScoreValueMapping.ContractName)
            .Append(ml.Transforms.CopyColumns(scoreColumn, ScoreValueMapping.OutputColumn));
        return Fit(ml, input, from, onnx, [ScoreValueMapping.InputColumn], outputs, [ScoreValueMapping.OutputColumn], gpuDeviceId, fallbackToCpu);
    }

    /// <summary>A multi-label classifier: <c>Score</c> ← <c>probabilities</c> (float, K), <c>PredictedLabel</c> ←
    /// <c>predicted_labels</c> (Boolean, K): vectors that ML.NET's OnnxTransformer reads as they are.</summary>
    public static OnnxScoring FitLabelSet(MLContext ml, IDataView input, ScoringInput from, byte[] onnx, string scoreColumn,
        string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        string probabilities = ExportedModelContract.ProbabilitiesOutput, predicted = ExportedModelContract.PredictedLabelsOutput;
        var outputs = ml.Transforms.CopyColumns(scoreColumn, probabilities).Append(ml.Transforms.CopyColumns(predictedLabelColumn, predicted));
        return Fit(ml, input, from, onnx, [probabilities, predicted], outputs, [], gpuDeviceId, fallbackToCpu);
    }

    /// <summary>The chain, fitted over a file of the graph that the result owns (<see cref="OnnxScoring"/>).</summary>
    private static OnnxScoring Fit(MLContext ml, IDataView input, ScoringInput from, byte[] onnx, string[] onnxOutputs,
        IEstimator<ITransformer> outputs, string[] outputColumns, int? gpuDeviceId, bool fallbackToCpu) =>
        OnnxScoring.Fit(ml.TempFilePath, onnx, file => from.Steps
            .Append(ml.Transforms.ApplyOnnxModel(onnxOutputs, [.. from.OnnxInputs], file, from.Shapes.ToDictionary(), gpuDeviceId, fallbackToCpu))
            .Append(outputs)
            .Append(ml.Transforms.DropColumns([.. from.Columns, .. from.OnnxInputs, .. onnxOutputs, .. outputColumns]))
            .Fit(input));

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}
