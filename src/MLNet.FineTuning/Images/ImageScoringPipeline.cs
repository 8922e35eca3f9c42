using Microsoft.ML;
using Microsoft.ML.Transforms.Image;
using MLNet.FineTuning.Onnx;

namespace MLNet.FineTuning.Images;

/// <summary>
/// The fitted image classifier expressed as public ML.NET components, so that <c>mlContext.Model.Save</c>/<c>Load</c>
/// round-trips it without this library (ML.NET keeps its persistence API internal: shared/FACTS.md):
/// ResizeImages (centre square, the evaluation geometry) → ExtractPixels (planar RGB 0..255) → the shared
/// <see cref="OnnxScoringChain"/> (ONNX model, Score, PredictedLabel key).
/// </summary>
internal static class ImageScoringPipeline
{
    public const string PixelsColumn = ImageClassifierExporter.PixelsInput;
    private const string ResizedColumn = "__MLNetFineTuning_Resized";

    public static ITransformer Build(MLContext ml, IDataView input, string imageColumn, int imageSize, byte[] onnx,
        IReadOnlyList<string> classNames, string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu) =>
        OnnxScoringChain.Fit(ml, input, Pixels(ml, imageColumn, imageSize), [PixelsColumn],
            new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, imageSize, imageSize] }, onnx, classNames,
            scoreColumn, predictedLabelColumn, gpuDeviceId, fallbackToCpu, [ResizedColumn]);

    /// <summary>Image → <c>pixels</c> float [3·S·S], planar RGB 0..255: the centre square resized to S×S.</summary>
    public static IEstimator<ITransformer> Pixels(MLContext ml, string imageColumn, int imageSize) =>
        ml.Transforms.ResizeImages(ResizedColumn, imageSize, imageSize, imageColumn,
                ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center)
            .Append(ml.Transforms.ExtractPixels(PixelsColumn, ResizedColumn));
}
