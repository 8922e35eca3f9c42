using Microsoft.ML;
using MLNet.FineTuning.Runtime;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// The part of a saved model that every estimator shares, after their own input steps: ApplyOnnxModel over
/// the exported graph (bytes stored in model.zip) → <c>Score</c> ← <c>probabilities</c> → the 1-element
/// <c>predicted_label</c> text to a scalar (the runtime package's stateless mapping; ML.NET cannot read rank-0
/// ONNX outputs: its OnnxTransformer maps tensors to vectors only) → <c>PredictedLabel</c> as a key over the training class names, in key order
/// → drop every intermediate column. All public ML.NET components, so model.zip loads without this library.
/// </summary>
internal static class OnnxScoringChain
{
    public static ITransformer Fit(MLContext ml, IDataView input, IEstimator<ITransformer> inputSteps,
        IReadOnlyList<string> onnxInputs, IReadOnlyDictionary<string, int[]> shapes, byte[] onnx, IReadOnlyList<string> classNames,
        string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu, IEnumerable<string> inputStepColumns)
    {
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassName { Value = c }));
        string probabilities = ImageClassifierExporter.ProbabilitiesOutput;
        var pipeline = inputSteps
            .Append(ml.Transforms.ApplyOnnxModel([probabilities, PredictedLabelMapping.InputColumn], [.. onnxInputs],
                new MemoryStream(onnx), shapes.ToDictionary(), gpuDeviceId, fallbackToCpu))
            .Append(ml.Transforms.CopyColumns(scoreColumn, probabilities))
            .Append(ml.Transforms.CustomMapping<PredictedLabelMapping.Input, PredictedLabelMapping.Output>(PredictedLabelMapping.Map, PredictedLabelMapping.ContractName))
            .Append(ml.Transforms.Conversion.MapValueToKey(predictedLabelColumn, PredictedLabelMapping.OutputColumn, keyData: keyData))
            .Append(ml.Transforms.DropColumns(
                [.. inputStepColumns, .. onnxInputs, probabilities, PredictedLabelMapping.InputColumn, PredictedLabelMapping.OutputColumn]));
        return pipeline.Fit(input);
    }

    /// <summary>A regressor's chain after its input steps: ApplyOnnxModel → the 1-element <c>score</c> to the scalar
    /// <c>Score</c> (the runtime package's <see cref="ScoreValueMapping"/>) → drop every intermediate column.</summary>
    public static ITransformer FitRegression(MLContext ml, IDataView input, IEstimator<ITransformer> inputSteps,
        IReadOnlyList<string> onnxInputs, IReadOnlyDictionary<string, int[]> shapes, byte[] onnx, string scoreColumn,
        int? gpuDeviceId, bool fallbackToCpu, IEnumerable<string> inputStepColumns)
    {
        var pipeline = inputSteps
            .Append(ml.Transforms.ApplyOnnxModel([ScoreValueMapping.InputColumn], [.. onnxInputs],
                new MemoryStream(onnx), shapes.ToDictionary(), gpuDeviceId, fallbackToCpu))
            .Append(ml.Transforms.CustomMapping<ScoreValueMapping.Input, ScoreValueMapping.Output>(ScoreValueMapping.Map, ScoreValueMapping.ContractName))
            .Append(ml.Transforms.CopyColumns(scoreColumn, ScoreValueMapping.OutputColumn))
            .Append(ml.Transforms.DropColumns([.. inputStepColumns, .. onnxInputs, ScoreValueMapping.InputColumn, ScoreValueMapping.OutputColumn]));
        return pipeline.Fit(input);
    }

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}
