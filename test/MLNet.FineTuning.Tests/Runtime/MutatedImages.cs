using SkiaSharp;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Seeded mutants of real image files for the fuzz tests: bit flips anywhere or in the header, truncations, runs of
/// bytes overwritten, chunks duplicated, of a PNG, a JPEG and a WebP. The same seed gives the same files.
/// </summary>
internal static class MutatedImages
{
    public static byte[] WebP
    {
        get
        {
            using var small = SKBitmap.Decode(HostileImages.Png);
            using var large = small.Resize(new SKImageInfo(96, 96), SKFilterQuality.Medium);
            using var image = SKImage.FromBitmap(large);
            using var data = image.Encode(SKEncodedImageFormat.Webp, 80);
            return data.ToArray();
        }
    }

    public static IEnumerable<(string Name, byte[] Bytes)> Make(int count, int seed)
    {
        var random = new Random(seed);
        (string Format, byte[] Bytes)[] originals = [("png", HostileImages.Png), ("jpeg", HostileImages.Jpeg), ("webp", WebP)];
        for (int i = 0; i < count; i++)
        {
            var (format, original) = originals[i % originals.Length];
            var bytes = (byte[])original.Clone();
            string how;
            switch (random.Next(5))
            {
                case 0:   // a few bit flips anywhere
                    int flips = 1 + random.Next(8);
                    for (int f = 0; f < flips; f++) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    how = $"{flips}-flips";
                    break;
                case 1:   // bit flips in the header, where sizes and chunk lengths are
                    int at = random.Next(Math.Min(64, bytes.Length));
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    how = $"header-flip-{at}";
                    break;
                case 2:   // cut off
                    int keep = random.Next(bytes.Length);
                    bytes = bytes[..keep];
                    how = $"cut-{keep}";
                    break;
                case 3:   // a run overwritten with random bytes
                    int start = random.Next(bytes.Length), length = Math.Min(bytes.Length - start, 1 + random.Next(64));
                    random.NextBytes(bytes.AsSpan(start, length));
                    how = $"run-{start}-{length}";
                    break;
                default:   // a slice repeated (lengths and offsets no longer match)
                    int from = random.Next(bytes.Length), size = Math.Min(bytes.Length - from, 1 + random.Next(256));
                    bytes = [.. bytes[..(from + size)], .. bytes[from..]];
                    how = $"repeat-{from}-{size}";
                    break;
            }
            yield return ($"{i:D4}-{format}-{how}", bytes);
        }
    }
}
