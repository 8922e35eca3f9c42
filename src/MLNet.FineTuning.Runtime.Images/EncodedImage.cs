using Microsoft.ML.Data;
using SkiaSharp;

namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Encoded image bytes (a file's contents: PNG, JPEG, ...) to an ML.NET image, the one decoder that both training
/// and the saved model's <see cref="DecodeImageMapping"/> use. It is <c>MLImage.CreateFromStream</c>, the same
/// SkiaSharp decoder as <c>LoadImages</c>' <c>MLImage.CreateFromFile</c>, so bytes and files of one image give the
/// same pixels. Before decoding, the bytes are checked as a service that takes images from strangers needs: the size
/// the header declares must be within <see cref="ImageLimits.MaxPixels"/> (a small file can declare 50,000 × 50,000
/// pixels, 10 GB decoded), and a PNG, JPEG, BMP, GIF or WebP must be whole (SkiaSharp's decoder accepts a cut-off file and fills what is
/// missing, so a truncated upload would be scored as if it were a picture).
/// </summary>
internal static class EncodedImage
{
    /// <summary>Decodes <paramref name="encoded"/>; the caller owns (and disposes) the image.</summary>
    /// <exception cref="InvalidDataException">The bytes are empty, no decoder recognises them, the declared size is over
    /// <see cref="ImageLimits.MaxPixels"/>, or the file is cut off (<see cref="ImageFileEnds"/>).</exception>
    public static MLImage Decode(byte[] encoded)
    {
        if (encoded.Length == 0)
            throw new InvalidDataException("no bytes: an empty image");
        Check(encoded);
        try
        {
            return MLImage.CreateFromStream(new MemoryStream(encoded, writable: false));
        }
        catch (ArgumentException e)
        {
            // SkiaSharp returns no bitmap for bytes it cannot parse and ML.NET turns that into an ArgumentException
            // ("Invalid input stream contents"); say what the bytes were instead.
            throw NotAnImage(encoded, e);
        }
    }

    /// <summary>Reads the header (no pixels are decoded, except a JPEG's at an eighth of its size) and refuses what
    /// <see cref="Decode"/> must not decode. Training calls it on the files that ML.NET's LoadImages is about to decode.</summary>
    /// <exception cref="InvalidDataException">As <see cref="Decode"/>.</exception>
    internal static void Check(byte[] encoded)
    {
        if (encoded.Length == 0) throw new InvalidDataException("no bytes: an empty image");
        using var data = SKData.CreateCopy(encoded);
        using var codec = SKCodec.Create(data) ?? throw NotAnImage(encoded, null);
        var (width, height) = (codec.Info.Width, codec.Info.Height);
        long pixels = (long)width * height;
        if (pixels > ImageLimits.MaxPixels)
            throw new InvalidDataException(
                $"a {codec.EncodedFormat} image that declares {width:N0} × {height:N0} pixels ({pixels / 1e6:N1} megapixels, " +
                $"{pixels * 4 / (1024.0 * 1024 * 1024):N1} GB decoded), over the limit of {ImageLimits.MaxPixels / 1e6:N1} megapixels " +
                "(ImageLimits.MaxPixels); refused before decoding");
        bool whole = codec.EncodedFormat switch
        {
            SKEncodedImageFormat.Png => ImageFileEnds.Png(encoded),
            SKEncodedImageFormat.Jpeg => JpegDecodesWhole(codec),
            SKEncodedImageFormat.Bmp => ImageFileEnds.Bmp(encoded),
            SKEncodedImageFormat.Gif => ImageFileEnds.Gif(encoded),
            SKEncodedImageFormat.Webp => ImageFileEnds.WebP(encoded),
            _ => true,   // ICO, WBMP, HEIF, ...: as the decoder finds them
        };
        if (!whole)
            throw new InvalidDataException(
                $"a truncated {codec.EncodedFormat} file ({encoded.Length:N0} bytes; it declares {width:N0} × {height:N0} pixels but its data ends early)");
    }

    /// <summary>Decodes the JPEG at its smallest scale (an eighth of each side: cheap) and says whether its data was whole.</summary>
    private static bool JpegDecodesWhole(SKCodec codec)
    {
        var size = codec.GetScaledDimensions(0.125f);
        var info = new SKImageInfo(Math.Max(1, size.Width), Math.Max(1, size.Height), SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        return result is not (SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput);
    }

    private static InvalidDataException NotAnImage(byte[] encoded, Exception? inner) => new(
        $"{encoded.Length} bytes that are not an image in a format ML.NET decodes (PNG, JPEG, GIF, BMP, WebP, ...); " +
        $"they start with {Convert.ToHexString(encoded, 0, Math.Min(8, encoded.Length))}", inner);
}
