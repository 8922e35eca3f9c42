namespace MLNet.FineTuning.Data;

/// <summary>
/// Per-image geometry for training and evaluation, written straight into a planar float [3,S,S] buffer of
/// 0..255 RGB values (the layout ML.NET's ExtractPixels gives, so training and scoring see the same input).
/// </summary>
internal static class ImageAugmentation
{
    /// <summary>
    /// Random resized crop (torchvision's RandomResizedCrop: area fraction in [minScale, 1], aspect ratio in
    /// [3/4, 4/3] log-uniform, 10 tries then the centre square) and a horizontal flip with probability ½.
    /// </summary>
    public static void RandomResizedCrop(DecodedImage image, int size, double minScale, bool flip, Random rng, Span<float> destination)
    {
        double area = (double)image.Width * image.Height;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * (minScale + rng.NextDouble() * (1 - minScale));
            double logRatio = Math.Log(3.0 / 4) + rng.NextDouble() * (Math.Log(4.0 / 3) - Math.Log(3.0 / 4));
            double ratio = Math.Exp(logRatio);
            double w = Math.Sqrt(target * ratio), h = Math.Sqrt(target / ratio);
            if (w <= image.Width && h <= image.Height)
            {
                double x0 = rng.NextDouble() * (image.Width - w), y0 = rng.NextDouble() * (image.Height - h);
                Resample(image, x0, y0, w, h, size, flip && rng.Next(2) == 1, destination);
                return;
            }
        }
        // The centre square, still flipped half of the time: with minScale 1 (cropping off) every draw ends
        // here, and a plain centre crop would silently turn HorizontalFlip off.
        double side = Math.Min(image.Width, image.Height);
        Resample(image, (image.Width - side) / 2, (image.Height - side) / 2, side, side, size, flip && rng.Next(2) == 1, destination);
    }

    /// <summary>The largest centred square, resized to S×S: what ML.NET's ResizeImages does with
    /// ResizingKind.IsoCrop and the centre anchor, the evaluation geometry used at scoring time.</summary>
    public static void CenterCrop(DecodedImage image, int size, Span<float> destination)
    {
        double side = Math.Min(image.Width, image.Height);
        Resample(image, (image.Width - side) / 2, (image.Height - side) / 2, side, side, size, false, destination);
    }

    /// <summary>Bilinear resampling of the box (x0,y0,w,h) to size×size, pixel centres aligned.</summary>
    private static void Resample(DecodedImage image, double x0, double y0, double w, double h, int size, bool mirror, Span<float> dst)
    {
        int plane = size * size, width = image.Width, height = image.Height;
        var rgb = image.Rgb;
        double sx = w / size, sy = h / size;
        for (int oy = 0; oy < size; oy++)
        {
            double fy = Math.Clamp(y0 + (oy + 0.5) * sy - 0.5, 0, height - 1);
            int yA = (int)fy, yB = Math.Min(yA + 1, height - 1);
            double wy = fy - yA;
            for (int ox = 0; ox < size; ox++)
            {
                int tx = mirror ? size - 1 - ox : ox;
                double fx = Math.Clamp(x0 + (tx + 0.5) * sx - 0.5, 0, width - 1);
                int xA = (int)fx, xB = Math.Min(xA + 1, width - 1);
                double wx = fx - xA;
                int a = 3 * (yA * width + xA), b = 3 * (yA * width + xB), c = 3 * (yB * width + xA), d = 3 * (yB * width + xB);
                int o = oy * size + ox;
                for (int ch = 0; ch < 3; ch++)
                {
                    double top = rgb[a + ch] + (rgb[b + ch] - rgb[a + ch]) * wx;
                    double bottom = rgb[c + ch] + (rgb[d + ch] - rgb[c + ch]) * wx;
                    dst[ch * plane + o] = (float)(top + (bottom - top) * wy);
                }
            }
        }
    }
}
