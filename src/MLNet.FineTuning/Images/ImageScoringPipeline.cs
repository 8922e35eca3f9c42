using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Images;

namespace MLNet.FineTuning.Images;

/// <summary>
/// The fitted image classifier expressed as public ML.NET components, so that <c>mlContext.Model.Save</c>/<c>Load</c>
/// round-trips it without this library (ML.NET keeps its persistence API internal, so a third party's transformer reaches a model.zip only as public
/// components and registered CustomMappings):
/// [encoded bytes only: CopyColumns → the runtime-images package's <see cref="DecodeImageMapping"/>] →
/// ResizeImages (centre square, the evaluation geometry) → ExtractPixels (planar RGB 0..255) → the shared
/// <see cref="OnnxScoringChain"/> (ONNX model, Score, PredictedLabel key).
/// </summary>
internal static class ImageScoringPipeline
{
    public const string PixelsColumn = ImagePixels.PixelsColumn;

    public static ITransformer Build(MLContext ml, IDataView input, string imageColumn, int imageSize, byte[] onnx,
        IReadOnlyList<string> classNames, string scoreColumn, string predictedLabelColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        var (steps, columns) = Pixels(ml, input.Schema, imageColumn, imageSize);
        return OnnxScoringChain.Fit(ml, input, steps, [PixelsColumn],
            new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, imageSize, imageSize] }, onnx, classNames,
            scoreColumn, predictedLabelColumn, gpuDeviceId, fallbackToCpu, columns);
    }

    /// <summary>The same input steps before a regressor's chain (<see cref="OnnxScoringChain.FitRegression"/>): <c>Score</c> a float.</summary>
    public static ITransformer BuildRegression(MLContext ml, IDataView input, string imageColumn, int imageSize, byte[] onnx,
        string scoreColumn, int? gpuDeviceId, bool fallbackToCpu)
    {
        var (steps, columns) = Pixels(ml, input.Schema, imageColumn, imageSize);
        return OnnxScoringChain.FitRegression(ml, input, steps, [PixelsColumn],
            new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, imageSize, imageSize] }, onnx, scoreColumn, gpuDeviceId, fallbackToCpu, columns);
    }

    /// <summary>
    /// Image or encoded image bytes (whichever <paramref name="schema"/>'s column holds) → <c>pixels</c> float
    /// [3·S·S], planar RGB 0..255: the centre square resized to S×S. Also returns the intermediate columns.
    /// </summary>
    public static (IEstimator<ITransformer> Steps, string[] Columns) Pixels(MLContext ml, DataViewSchema schema, string imageColumn, int imageSize)
    {
        if (ImageColumns.CheckImage(schema, imageColumn) == ImageColumnKind.Decoded)
            return (ImagePixels.Steps(ml, imageColumn, imageSize), [ImagePixels.IntermediateColumn]);
        // A saved CustomMapping keeps only its contract name, not column names: the bytes go to its fixed input column.
        return (ml.Transforms.CopyColumns(DecodeImageMapping.InputColumn, imageColumn)
                .Append(DecodeImageMapping.Estimator(ml.Transforms))
                .Append(ImagePixels.Steps(ml, DecodeImageMapping.OutputColumn, imageSize)),
            [ImagePixels.IntermediateColumn, DecodeImageMapping.InputColumn, DecodeImageMapping.OutputColumn]);
    }
}
