using SkiaSharp;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>Small PNG copies of input images for the report's table of worst-classified examples.</summary>
internal static class Thumbnail
{
    public const int Side = 96;

    /// <summary>The image at <paramref name="path"/> scaled to <see cref="Side"/> pixels on its longer side (small
    /// images grow with sharp pixels, so a 28-px digit stays legible), or a text cell when it cannot be decoded (a
    /// report is no place to fail a finished run).</summary>
    public static ReportCell Of(string path, string fileName)
    {
        using var image = SKBitmap.Decode(path);
        if (image == null) return new($"{Path.GetFileName(path)} (not decodable for a thumbnail)");
        double scale = (double)Side / Math.Max(image.Width, image.Height);
        int w = Math.Max(1, (int)Math.Round(image.Width * scale)), h = Math.Max(1, (int)Math.Round(image.Height * scale));
        using var small = image.Resize(new SKImageInfo(w, h), scale < 1 ? SKFilterQuality.Medium : SKFilterQuality.None);
        using var encoded = SKImage.FromBitmap(small).Encode(SKEncodedImageFormat.Png, 100);
        return new(Path.GetFileName(path), new ReportPicture(fileName, Path.GetFileName(path), encoded.ToArray()));
    }
}
