using Microsoft.ML.Data;
using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// A shifted copy of each test set, for what fine-tuning forgets or overfits (the robustness WiSE-FT and L2-SP claim):
/// the same rows and labels, distorted the same way for every recipe and seed (the distortion's seed is fixed).
/// <list type="bullet">
/// <item>Images: contrast halved around the image's mean and Gaussian noise of σ = 20 (of 255) per channel, about
/// severity 2–3 of ImageNet-C's contrast and Gaussian-noise corruptions; written as 24-bit BMP files, which ML.NET's
/// LoadImages reads like the originals.</item>
/// <item>Text: one word in ten dropped and one in ten given a typo (two neighbouring letters swapped, or one letter
/// dropped), as typed by a hurried user.</item>
/// </list>
/// </summary>
internal static class ShiftedTestSet
{
    private const int Seed = 777;
    private const double Contrast = 0.5, NoiseSigma = 20;

    /// <summary>The shifted copies of <paramref name="rows"/>, written once into <paramref name="folder"/> (reused when
    /// present: the distortion depends on the row only).</summary>
    public static IReadOnlyList<ImageFolder.Row> Images(IReadOnlyList<ImageFolder.Row> rows, string folder)
    {
        Directory.CreateDirectory(folder);
        return rows.Select((r, i) =>
        {
            string path = Path.Combine(folder, $"{i:D5}.bmp");
            if (!File.Exists(path)) WriteShifted(r.ImagePath, path, new Random(Seed + i));
            return new ImageFolder.Row { Label = r.Label, ImagePath = path };
        }).ToList();
    }

    private static void WriteShifted(string source, string target, Random rng)
    {
        using var image = MLImage.CreateFromFile(source);
        int w = image.Width, h = image.Height;
        var pixels = image.Pixels;   // 4 bytes a pixel, BGRA or RGBA
        bool bgra = image.PixelFormat == MLPixelFormat.Bgra32;
        double mean = 0;
        for (int i = 0; i < pixels.Length; i += 4) mean += pixels[i] + pixels[i + 1] + pixels[i + 2];
        mean /= 3.0 * w * h;
        int stride = (3 * w + 3) & ~3;
        var bmp = new byte[54 + stride * h];
        WriteHeader(bmp, w, h, stride);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int s = 4 * (y * w + x), t = 54 + (h - 1 - y) * stride + 3 * x;   // BMP rows run bottom-up, in BGR
                for (int c = 0; c < 3; c++)
                {
                    int channel = bgra ? c : 2 - c;
                    double v = mean + Contrast * (pixels[s + channel] - mean) + NoiseSigma * Normal(rng);
                    bmp[t + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            }
        string temp = target + ".tmp";
        File.WriteAllBytes(temp, bmp);
        File.Move(temp, target, overwrite: true);
    }

    private static void WriteHeader(byte[] bmp, int w, int h, int stride)
    {
        void Int(int at, int v) => BitConverter.TryWriteBytes(bmp.AsSpan(at, 4), v);
        bmp[0] = (byte)'B'; bmp[1] = (byte)'M';
        Int(2, bmp.Length); Int(10, 54);                                  // file size, pixel offset
        Int(14, 40); Int(18, w); Int(22, h);                              // BITMAPINFOHEADER, width, height
        BitConverter.TryWriteBytes(bmp.AsSpan(26, 2), (short)1);          // planes
        BitConverter.TryWriteBytes(bmp.AsSpan(28, 2), (short)24);         // bits per pixel
        Int(34, stride * h); Int(38, 2835); Int(42, 2835);                // image size, 72 dpi
    }

    /// <summary>The shifted copies of <paramref name="rows"/>' texts.</summary>
    public static IReadOnlyList<TextRow> Texts(IReadOnlyList<TextRow> rows) =>
        rows.Select((r, i) => new TextRow { Label = r.Label, Text = Distort(r.Text, new Random(Seed + i)) }).ToList();

    private static string Distort(string text, Random rng)
    {
        var words = new List<string>();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            double u = rng.NextDouble();
            if (u < 0.1 && words.Count > 0) continue;   // dropped (never the first word, so no text becomes empty)
            if (u < 0.2 && word.Length > 3) words.Add(Typo(word, rng));
            else words.Add(word);
        }
        return string.Join(' ', words);
    }

    private static string Typo(string word, Random rng)
    {
        int i = rng.Next(word.Length - 1);
        var c = word.ToCharArray();
        if (rng.NextDouble() < 0.5) return new string(c.Take(i).Concat(c.Skip(i + 1)).ToArray());
        (c[i], c[i + 1]) = (c[i + 1], c[i]);
        return new string(c);
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
