using Microsoft.ML;
using MLNet.FineTuning.Onnx;

namespace MLNet.FineTuning.Text;

/// <summary>
/// The fitted text classifier as public ML.NET components plus the runtime package's stateless mappings
/// (docs/text-saved-model.md): tokenization steps (vocabulary persisted in a MapValue table) → the shared
/// <see cref="OnnxScoringChain"/> (merged encoder + head as ONNX, Score, PredictedLabel key).
/// </summary>
internal static class TextScoringPipeline
{
    public static ITransformer Build(MLContext ml, IDataView input, string textColumn, string? pairColumn,
        IReadOnlyDictionary<string, int> vocabulary, bool lowerCase, int maxLength, byte[] onnx,
        IReadOnlyList<string> classNames, string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        return OnnxScoringChain.Fit(ml, input, TextTokenizationPipeline.Build(ml, textColumn, pairColumn, vocabulary, lowerCase, maxLength),
            inputs, inputs.ToDictionary(n => n, _ => new[] { 1, -1 }), onnx, classNames,
            scoreColumn, predictedLabelColumn, gpuDeviceId, fallbackToCpu, []);
    }

    /// <summary>The same tokenization steps before a regressor's chain (<see cref="OnnxScoringChain.FitRegression"/>): <c>Score</c> a float.</summary>
    public static ITransformer BuildRegression(MLContext ml, IDataView input, string textColumn, string? pairColumn,
        IReadOnlyDictionary<string, int> vocabulary, bool lowerCase, int maxLength, byte[] onnx, string scoreColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        return OnnxScoringChain.FitRegression(ml, input, TextTokenizationPipeline.Build(ml, textColumn, pairColumn, vocabulary, lowerCase, maxLength),
            inputs, inputs.ToDictionary(n => n, _ => new[] { 1, -1 }), onnx, scoreColumn, gpuDeviceId, fallbackToCpu, []);
    }
}
