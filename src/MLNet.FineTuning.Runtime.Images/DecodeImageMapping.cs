using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms;
using Microsoft.ML.Transforms.Image;

namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Decodes the encoded image bytes of a row (a <c>VBuffer&lt;byte&gt;</c> column, as <c>LoadRawImageBytes</c>
/// makes) into an ML.NET image, for the saved model's ResizeImages → ExtractPixels steps. No public ML.NET
/// transform decodes bytes (LoadImages reads paths only) and ONNX Runtime has no ImageDecoder kernel, so saved
/// models trained on bytes carry this one stateless step, found by its contract name when the model is loaded
/// (docs/raw-image-bytes.md).
/// </summary>
[CustomMappingFactoryAttribute(ContractName)]
public sealed class DecodeImageMapping : CustomMappingFactory<DecodeImageMapping.Input, DecodeImageMapping.Output>
{
    /// <summary>The contract name stored in saved models. Never change it: saved models refer to it.</summary>
    public const string ContractName = "MLNet.FineTuning.DecodeImage/1";

    /// <summary>Input column name: a copy of the model's image column (a saved mapping cannot store column names).</summary>
    public const string InputColumn = "__MLNetFineTuning_EncodedImage";

    /// <summary>Output column name: the decoded image, consumed by ResizeImages and then dropped.</summary>
    public const string OutputColumn = "__MLNetFineTuning_DecodedImage";

    /// <summary>ML.NET creates the factory when it loads a saved model, before it reads <see cref="Output"/>'s schema.</summary>
    public DecodeImageMapping() => RegisterImageType();

    /// <summary>The encoded bytes of one image.</summary>
    public sealed class Input
    {
        /// <summary>A file's contents (PNG, JPEG, ...); empty means no image.</summary>
        [ColumnName(InputColumn)]
        public byte[] Encoded { get; set; } = [];
    }

    /// <summary>The decoded image.</summary>
    public sealed class Output
    {
        /// <summary>The image (32-bit BGRA or RGBA), or null for empty bytes.</summary>
        [ColumnName(OutputColumn)]
        public MLImage? Image { get; set; }
    }

    /// <summary>
    /// The mapping itself. Empty bytes give no image, as LoadImages does for an empty path (ExtractPixels then
    /// writes zeros); bytes that do not decode throw <see cref="InvalidDataException"/>.
    /// </summary>
    public static void Map(Input input, Output output)
    {
        // ML.NET reuses one Output per cursor and the previous row's image has been read by then (ResizeImages
        // copies it): free its native SkiaSharp bitmap now rather than at some later garbage collection, which
        // does not see native memory (a 12-megapixel photo is 48 MB).
        output.Image?.Dispose();
        output.Image = null;
        if (input.Encoded is not { Length: > 0 } encoded) return;
        try
        {
            output.Image = EncodedImage.Decode(encoded);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"The image column holds {e.Message} ({ContractName}).", e);
        }
    }

    /// <summary>This step as an estimator, with the variable-size image type registered first (see <see cref="RegisterImageType"/>).</summary>
    public static CustomMappingEstimator<Input, Output> Estimator(TransformsCatalog transforms)
    {
        RegisterImageType();
        return transforms.CustomMapping<Input, Output>(Map, ContractName);
    }

    /// <inheritdoc/>
    public override Action<Input, Output> GetMapping() => Map;

    /// <summary>
    /// Maps an <c>MLImage</c> member without attributes to ML.NET's image type of any size. ImageAnalytics only
    /// registers fixed sizes (<c>[ImageType(height, width)]</c>), and decoded images have the size of their file.
    /// Registering the same pair again is a no-op, so every caller may call it.
    /// </summary>
    internal static void RegisterImageType() => DataViewTypeManager.Register(new ImageDataViewType(), typeof(MLImage));
}
