using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime;

namespace MLNet.FineTuning.Images;

/// <summary>
/// The fitted image classifier expressed as public ML.NET components plus the runtime package's one
/// stateless mapping, so that <c>mlContext.Model.Save</c>/<c>Load</c> round-trips it without this library
/// (ML.NET keeps its persistence API internal: shared/FACTS.md). Steps:
/// ResizeImages (centre square, the evaluation geometry) → ExtractPixels (planar RGB 0..255) →
/// ApplyOnnxModel (the exported network, bytes stored in the zip) → Score ← probabilities →
/// predicted_label (1-element text vector) → scalar text → MapValueToKey over the training class names, so
/// PredictedLabel is a key with the training label's key values → drop the intermediate columns.
/// </summary>
internal static class ImageScoringPipeline
{
    public const string PixelsColumn = ImageClassifierExporter.PixelsInput;
    private const string ProbabilitiesColumn = ImageClassifierExporter.ProbabilitiesOutput;
    private const string ResizedColumn = "__MLNetFineTuning_Resized";

    public static ITransformer Build(MLContext ml, IDataView input, string imageColumn, int imageSize, byte[] onnx,
        IReadOnlyList<string> classNames, string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        var keyData = ml.Data.LoadFromEnumerable(classNames.Select(c => new ClassName { Value = c }));
        var shapes = new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, imageSize, imageSize] };
        var pipeline = Pixels(ml, imageColumn, imageSize)
            .Append(ml.Transforms.ApplyOnnxModel([ProbabilitiesColumn, PredictedLabelMapping.InputColumn], [PixelsColumn],
                new MemoryStream(onnx), shapes, gpuDeviceId, fallbackToCpu))
            .Append(ml.Transforms.CopyColumns(scoreColumn, ProbabilitiesColumn))
            .Append(ml.Transforms.CustomMapping<PredictedLabelMapping.Input, PredictedLabelMapping.Output>(PredictedLabelMapping.Map, PredictedLabelMapping.ContractName))
            .Append(ml.Transforms.Conversion.MapValueToKey(predictedLabelColumn, PredictedLabelMapping.OutputColumn, keyData: keyData))
            .Append(ml.Transforms.DropColumns(
                ResizedColumn, PixelsColumn, ProbabilitiesColumn, PredictedLabelMapping.InputColumn, PredictedLabelMapping.OutputColumn));
        return pipeline.Fit(input);
    }

    /// <summary>Image → <c>pixels</c> float [3·S·S], planar RGB 0..255: the centre square resized to S×S.</summary>
    public static IEstimator<ITransformer> Pixels(MLContext ml, string imageColumn, int imageSize) =>
        ml.Transforms.ResizeImages(ResizedColumn, imageSize, imageSize, imageColumn,
                ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center)
            .Append(ml.Transforms.ExtractPixels(PixelsColumn, ResizedColumn));

    private sealed class ClassName
    {
        public string Value { get; set; } = "";
    }
}
