// stamps: the PNG stamps of Debian's Tux Paint stamp package(s) under /usr/share/tuxpaint/stamps/<category>/...
// (photos and clip art), labelled by folder. SVG stamps and the *_mirror.png variants (a flipped copy of
// another stamp) are skipped; exact duplicate files (same bytes) are kept once, in path order.
using SkiaSharp;

internal static class SuiteStamps
{
    private const int MinPerClass = 20;   // smaller classes are dropped
    private const int SplitAbove = 100;   // a top-level folder with more images is split by its sub-folders

    public static void Write(string src, string dst, Action<string, string> count)
    {
        var files = Directory.EnumerateFiles(src, "*.png", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(src, f).Replace('\\', '/'))
            .Where(r => !r.EndsWith("_mirror.png", StringComparison.Ordinal) && !r.Contains("thumb", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        files = SuiteImages.FirstOfEachContent(src, files);

        // Class: the top-level folder. A large, mixed top-level folder (animals, symbols) is split by its
        // 2nd-level folders; their small ones (and loose files) merge into <top>_other. Then small classes go.
        var top = files.GroupBy(r => r.Split('/')[0]).ToDictionary(g => g.Key, g => g.Count());
        string Second(string r) => r.Split('/') is { Length: > 2 } p ? p[0] + "_" + p[1] : r.Split('/')[0] + "_other";
        var second = files.GroupBy(Second).ToDictionary(g => g.Key, g => g.Count());
        string ClassOf(string r)
        {
            string t = r.Split('/')[0];
            if (top[t] <= SplitAbove) return t;
            string s = Second(r);
            return second[s] >= MinPerClass ? s : t + "_other";
        }
        var labelled = files.Select(r => (Rel: r, Class: Clean(ClassOf(r)))).ToList();
        var sizes = labelled.GroupBy(x => x.Class).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (rel, cls) in labelled)
        {
            if (sizes[cls] < MinPerClass) continue;
            string split = SuiteImages.Hash(rel) % 4 == 0 ? "test" : "train";
            using var image = SKBitmap.Decode(Path.Combine(src, rel)) ?? throw new InvalidDataException($"{rel}: not a decodable image.");
            // Longer side at most 128 px, aspect kept, padded to a white 128×128 square.
            string id = Path.ChangeExtension(rel, null).Replace('/', '_');
            SuiteImages.SaveOnWhite(image, 128, Path.Combine(dst, split, cls, Clean(id) + ".png"));
            count(split, cls);
        }
        Console.WriteLine($"stamps: {files.Count} distinct PNG files; dropped classes (< {MinPerClass}): " +
            string.Join(", ", sizes.Where(kv => kv.Value < MinPerClass).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
    }

    private static string Clean(string s) => new(s.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_').ToArray());
}
