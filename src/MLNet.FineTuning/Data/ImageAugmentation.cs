namespace MLNet.FineTuning.Data;

/// <summary>
/// Per-image geometry for training and evaluation, written straight into a planar [3,S,S] buffer of 0..255 RGB
/// values (the layout ML.NET's ExtractPixels gives, so training and scoring see the same input). Batches travel
/// as bytes, rounded as ML.NET's ResizeImages rounds its 8-bit output: a quarter of the host memory and of the
/// host-to-device copy of floats; the float overloads write the same values.
/// </summary>
internal static class ImageAugmentation
{
    /// <summary>
    /// Random resized crop (torchvision's RandomResizedCrop: area fraction in [minScale, 1], aspect ratio in
    /// [3/4, 4/3] log-uniform, 10 tries then the centre square) and a horizontal flip with probability ½.
    /// </summary>
    public static void RandomResizedCrop(DecodedImage image, int size, double minScale, bool flip, Random rng, Span<float> destination)
    {
        var bytes = new byte[destination.Length];
        RandomResizedCrop(image, size, minScale, flip, rng, bytes.AsSpan());
        Widen(bytes, destination);
    }

    /// <inheritdoc cref="RandomResizedCrop(DecodedImage, int, double, bool, Random, Span{float})"/>
    public static void RandomResizedCrop(DecodedImage image, int size, double minScale, bool flip, Random rng, Span<byte> destination)
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
        var bytes = new byte[destination.Length];
        CenterCrop(image, size, bytes.AsSpan());
        Widen(bytes, destination);
    }

    /// <inheritdoc cref="CenterCrop(DecodedImage, int, Span{float})"/>
    public static void CenterCrop(DecodedImage image, int size, Span<byte> destination)
    {
        double side = Math.Min(image.Width, image.Height);
        Resample(image, (image.Width - side) / 2, (image.Height - side) / 2, side, side, size, false, destination);
    }

    /// <summary>
    /// Brightness, contrast and sensor noise, in place on one planar [3,S,S] image of bytes: the pixels are scaled by a
    /// brightness factor b, pulled toward (c &lt; 1) or pushed from (c &gt; 1) their mean grey by a contrast factor c (b and c
    /// uniform in [1 − jitter, 1 + jitter], as torchvision's ColorJitter draws them), and Gaussian noise of a standard
    /// deviation uniform in [0, noiseLevel] grey levels is added to every value; the result is rounded and clamped to
    /// bytes. Small, dim or noisy inputs (scans, phone photos, thumbnails) are what this is for: a network fine-tuned
    /// on clean images reads noise as texture (docs/quality.md, the shifted test copies).
    /// </summary>
    public static void Photometric(Span<byte> image, double jitter, double noiseLevel, Random rng)
    {
        double brightness = 1 + jitter * (2 * rng.NextDouble() - 1), contrast = 1 + jitter * (2 * rng.NextDouble() - 1);
        double sigma = noiseLevel * rng.NextDouble();
        double mean = 0;
        foreach (byte v in image) mean += v;
        mean = brightness * mean / Math.Max(1, image.Length);
        // out = c·(b·x) + (1 − c)·mean(b·x) + noise: the affine part is one multiply-add per value.
        float scale = (float)(contrast * brightness), offset = (float)((1 - contrast) * mean);
        for (int i = 0; i < image.Length; i++)
        {
            float v = scale * image[i] + offset;
            if (sigma > 0) v += (float)(sigma * Gaussian(rng));
            image[i] = (byte)Math.Clamp(v + 0.5f, 0, 255);
        }
    }

    /// <summary>A standard normal draw (Box–Muller; one of the pair is thrown away, which keeps the draw stateless).</summary>
    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    private static void Widen(ReadOnlySpan<byte> source, Span<float> destination)
    {
        for (int i = 0; i < source.Length; i++) destination[i] = source[i];
    }

    /// <summary>Bilinear resampling of the box (x0,y0,w,h) to size×size, pixel centres aligned, rounded to bytes.
    /// The column positions and weights are computed once per image, not once per pixel: this loop is the CPU
    /// side of every training step, and on a GPU it is what the device waits for.</summary>
    private static void Resample(DecodedImage image, double x0, double y0, double w, double h, int size, bool mirror, Span<byte> dst)
    {
        int plane = size * size, width = image.Width, height = image.Height;
        ReadOnlySpan<byte> rgb = image.Rgb;
        double sx = w / size, sy = h / size;
        Span<int> left = size <= 1024 ? stackalloc int[size] : new int[size];
        Span<int> right = size <= 1024 ? stackalloc int[size] : new int[size];
        Span<float> weight = size <= 1024 ? stackalloc float[size] : new float[size];
        for (int ox = 0; ox < size; ox++)
        {
            int tx = mirror ? size - 1 - ox : ox;
            double fx = Math.Clamp(x0 + (tx + 0.5) * sx - 0.5, 0, width - 1);
            int xA = (int)fx;
            left[ox] = 3 * xA;
            right[ox] = 3 * Math.Min(xA + 1, width - 1);
            weight[ox] = (float)(fx - xA);
        }
        Span<byte> r = dst[..plane], g = dst.Slice(plane, plane), b = dst.Slice(2 * plane, plane);
        for (int oy = 0; oy < size; oy++)
        {
            double fy = Math.Clamp(y0 + (oy + 0.5) * sy - 0.5, 0, height - 1);
            int yA = (int)fy;
            float wy = (float)(fy - yA);
            ReadOnlySpan<byte> top = rgb.Slice(3 * yA * width, 3 * width), bottom = rgb.Slice(3 * Math.Min(yA + 1, height - 1) * width, 3 * width);
            int row = oy * size;
            for (int ox = 0; ox < size; ox++)
            {
                int a = left[ox], c = right[ox];
                float wx = weight[ox];
                r[row + ox] = Lerp(top[a], top[c], bottom[a], bottom[c], wx, wy);
                g[row + ox] = Lerp(top[a + 1], top[c + 1], bottom[a + 1], bottom[c + 1], wx, wy);
                b[row + ox] = Lerp(top[a + 2], top[c + 2], bottom[a + 2], bottom[c + 2], wx, wy);
            }
        }
    }

    private static byte Lerp(byte topLeft, byte topRight, byte bottomLeft, byte bottomRight, float wx, float wy)
    {
        float upper = topLeft + (topRight - topLeft) * wx, lower = bottomLeft + (bottomRight - bottomLeft) * wx;
        return (byte)(upper + (lower - upper) * wy + 0.5f);   // in [0, 255]: a convex mix of bytes
    }
}
