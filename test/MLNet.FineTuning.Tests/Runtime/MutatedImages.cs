using SkiaSharp;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Seeded mutants (<see cref="ByteMutations"/>) of a real PNG, JPEG and WebP for the fuzz tests. The same seed gives
/// the same files.
/// </summary>
internal static class MutatedImages
{
    public static byte[] WebP
    {
        get
        {
            using var large = HostileImages.Upscaled(96);
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
            var (how, bytes) = ByteMutations.Mutate(original, random);
            yield return ($"{i:D4}-{format}-{how}", bytes);
        }
    }
}
