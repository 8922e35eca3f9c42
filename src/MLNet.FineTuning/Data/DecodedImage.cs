using Microsoft.ML.Data;

namespace MLNet.FineTuning.Data;

/// <summary>An image decoded to 8-bit RGB, interleaved (R,G,B per pixel, row-major).</summary>
internal sealed class DecodedImage
{
    public DecodedImage(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        Rgb = rgb;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }
    public long Bytes => Rgb.LongLength;

    /// <summary>Copies the pixels of an ML.NET image (32-bit BGRA or RGBA, as ML.NET decodes every format).</summary>
    public static DecodedImage From(MLImage image)
    {
        var src = image.Pixels;
        int n = image.Width * image.Height;
        var rgb = new byte[n * 3];
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        if (!bgra && image.PixelFormat != MLPixelFormat.Rgba32)
            throw new NotSupportedException($"Pixel format {image.PixelFormat} is not supported (BGRA32 or RGBA32 expected).");
        for (int i = 0; i < n; i++)
        {
            rgb[3 * i] = src[4 * i + (bgra ? 2 : 0)];
            rgb[3 * i + 1] = src[4 * i + 1];
            rgb[3 * i + 2] = src[4 * i + (bgra ? 0 : 2)];
        }
        return new DecodedImage(image.Width, image.Height, rgb);
    }
}
