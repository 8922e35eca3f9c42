using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Images;

namespace MLNet.FineTuning.Images;

/// <summary>
/// A fitted image model's input steps in its saved chain, as public ML.NET components, so that <c>mlContext.Model.Save</c>/<c>Load</c>
/// round-trips it without this library (ML.NET keeps its persistence API internal, so a third party's transformer reaches a model.zip only as public
/// components and registered CustomMappings):
/// [encoded bytes only: CopyColumns → the runtime-images package's <see cref="DecodeImageMapping"/>] →
/// ResizeImages (centre square, the evaluation geometry) → ExtractPixels (planar RGB 0..255); the shared
/// <see cref="OnnxScoringChain"/> follows.
/// </summary>
internal static class ImageScoringPipeline
{
    public const string PixelsColumn = ImagePixels.PixelsColumn;

    public static ScoringInput Input(MLContext ml, DataViewSchema schema, string imageColumn, int imageSize)
    {
        var (steps, columns) = Pixels(ml, schema, imageColumn, imageSize);
        return new ScoringInput(steps, [PixelsColumn], new Dictionary<string, int[]> { [PixelsColumn] = [1, 3, imageSize, imageSize] }, columns);
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
