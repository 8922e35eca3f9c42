using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Encoded image bytes (PNG, JPEG, ...) to the <c>pixels</c> input of an exported image model, exactly as the
/// fitted model prepares them: the same decoder (<see cref="EncodedImage"/>), then ML.NET's <c>ResizeImages</c> to
/// the centred square of side S (<c>IsoCrop</c>, <c>Center</c>) and <c>ExtractPixels</c> (planar RGB, 0..255). The saved
/// model.zip runs the same two steps (<see cref="Steps"/> is the one definition both use), so a service that prepares
/// pixels here and runs <c>model.onnx</c> in ONNX Runtime gets the scores of <c>Transform</c>. Thread-safe.
/// </summary>
public sealed class ImagePixels
{
    /// <summary>The name of the column that <see cref="Steps"/> writes, the exported model's input name.</summary>
    public const string PixelsColumn = Onnx.ExportedModelContract.PixelsInput;

    private const string ImageColumn = "Image", ResizedColumn = "__MLNetFineTuning_Resized";
    private readonly MLContext ml = new();
    private readonly ITransformer steps;
    private readonly SchemaDefinition schema;

    /// <summary>Prepares images for a model whose input side is <paramref name="imageSize"/> (the exported model's
    /// <c>ImageSize</c>).</summary>
    public ImagePixels(int imageSize)
    {
        if (imageSize < 1) throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "The image size must be at least 1.");
        ImageSize = imageSize;
        DecodeImageMapping.RegisterImageType();
        schema = SchemaDefinition.Create(typeof(Row));
        steps = Steps(ml, ImageColumn, imageSize).Fit(ml.Data.LoadFromEnumerable(Array.Empty<Row>(), schema));
    }

    /// <summary>The side S of the square the images are resized to.</summary>
    public int ImageSize { get; }

    /// <summary>Floats per image: 3 × S × S.</summary>
    public int Length => 3 * ImageSize * ImageSize;

    /// <summary>Decodes <paramref name="encoded"/> and returns its <see cref="Length"/> pixel values.</summary>
    /// <exception cref="InvalidDataException">The bytes are empty or not an image ML.NET decodes; the message says what they start with.</exception>
    public float[] FromEncoded(byte[] encoded)
    {
        Check.NotNull(encoded, nameof(encoded));
        using var image = EncodedImage.Decode(encoded);
        var view = ml.Data.LoadFromEnumerable(new[] { new Row { Image = image } }, schema);
        return steps.Transform(view).GetColumn<float[]>(PixelsColumn).Single();
    }

    /// <summary>
    /// <c>ResizeImages</c> (centred square of side <paramref name="imageSize"/>) then <c>ExtractPixels</c> into
    /// <see cref="PixelsColumn"/>, from the image column <paramref name="imageColumn"/>: the preparation that training's
    /// evaluation, the saved model and <see cref="FromEncoded"/> share.
    /// </summary>
    internal static IEstimator<ITransformer> Steps(MLContext ml, string imageColumn, int imageSize) =>
        ml.Transforms.ResizeImages(ResizedColumn, imageSize, imageSize, imageColumn,
                ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center)
            .Append(ml.Transforms.ExtractPixels(PixelsColumn, ResizedColumn));

    /// <summary>The intermediate column <see cref="Steps"/> leaves behind.</summary>
    internal static string IntermediateColumn => ResizedColumn;

    private sealed class Row
    {
        public MLImage? Image { get; set; }
    }
}
