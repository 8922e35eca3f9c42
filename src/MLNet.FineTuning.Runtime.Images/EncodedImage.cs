using Microsoft.ML.Data;

namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Encoded image bytes (a file's contents: PNG, JPEG, ...) to an ML.NET image, the one decoder that both training
/// and the saved model's <see cref="DecodeImageMapping"/> use. It is <c>MLImage.CreateFromStream</c>, the same
/// SkiaSharp decoder as <c>LoadImages</c>' <c>MLImage.CreateFromFile</c>, so bytes and files of one image give the
/// same pixels.
/// </summary>
internal static class EncodedImage
{
    /// <summary>Decodes <paramref name="encoded"/>; the caller owns (and disposes) the image.</summary>
    /// <exception cref="InvalidDataException">The bytes are empty or no decoder recognises them.</exception>
    public static MLImage Decode(byte[] encoded)
    {
        if (encoded.Length == 0)
            throw new InvalidDataException("no bytes: an empty image");
        try
        {
            return MLImage.CreateFromStream(new MemoryStream(encoded, writable: false));
        }
        catch (ArgumentException e)
        {
            // SkiaSharp returns no bitmap for bytes it cannot parse and ML.NET turns that into an ArgumentException
            // ("Invalid input stream contents"); say what the bytes were instead.
            throw new InvalidDataException(
                $"{encoded.Length} bytes that are not an image in a format ML.NET decodes (PNG, JPEG, GIF, BMP, WebP, ...); " +
                $"they start with {Convert.ToHexString(encoded, 0, Math.Min(8, encoded.Length))}", e);
        }
    }
}
