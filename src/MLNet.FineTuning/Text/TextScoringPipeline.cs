using Microsoft.ML;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime;

namespace MLNet.FineTuning.Text;

/// <summary>
/// The fitted text classifier as public ML.NET components plus the runtime package's stateless mappings
/// (docs/text-saved-model.md): tokenization steps (vocabulary persisted in a MapValue table) → ApplyOnnxModel
/// (merged encoder + head, bytes stored in the zip) → Score ← probabilities → PredictedLabel key over the
/// training class names → drop the intermediate columns.
/// </summary>
internal static class TextScoringPipeline
{
    public static ITransformer Build(MLContext ml, IDataView input, string textColumn, string? pairColumn,
        IReadOnlyDictionary<string, int> vocabulary, bool lowerCase, int maxLength, byte[] onnx,
        IReadOnlyList<string> classNames, string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassName { Value = c }));
        string[] inputs = [BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput];
        var shapes = inputs.ToDictionary(n => n, _ => new[] { 1, -1 });
        var pipeline = TextTokenizationPipeline.Build(ml, textColumn, pairColumn, vocabulary, lowerCase, maxLength)
            .Append(ml.Transforms.ApplyOnnxModel([TextClassifierExporter.ProbabilitiesOutput, PredictedLabelMapping.InputColumn], inputs,
                new MemoryStream(onnx), shapes, gpuDeviceId, fallbackToCpu))
            .Append(ml.Transforms.CopyColumns(scoreColumn, TextClassifierExporter.ProbabilitiesOutput))
            .Append(ml.Transforms.CustomMapping<PredictedLabelMapping.Input, PredictedLabelMapping.Output>(PredictedLabelMapping.Map, PredictedLabelMapping.ContractName))
            .Append(ml.Transforms.Conversion.MapValueToKey(predictedLabelColumn, PredictedLabelMapping.OutputColumn, keyData: keyData))
            .Append(ml.Transforms.DropColumns([.. inputs, TextClassifierExporter.ProbabilitiesOutput, PredictedLabelMapping.InputColumn, PredictedLabelMapping.OutputColumn]));
        return pipeline.Fit(input);
    }

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}
