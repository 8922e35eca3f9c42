// glyph-weights and glyph-styles: two sets from the same Debian font packages as glyphs (eng/prepare-data.sh): ten
// characters of every text font, rendered as glyphs renders them (32×32, black on white, one size and baseline), each
// labelled with what the font file itself declares (read by Skia), so a model must read it from the strokes of a font it
// has never seen: the split is by family, so every style of a family lands on one side.
//   glyph-weights  a regression set: the font's weight class, 100 (thin) to 900 (black) (OpenType OS/2 usWeightClass)
//   glyph-styles   a multi-label set: bold (weight class 600 or more), light (300 or less), italic (italic or oblique
//                  slant), condensed (width class below normal), monospace (fixed pitch); a font may have none of them
//   glyph-angles   a regression set: each glyph drawn turned by an angle from -45 to 45 degrees (clockwise, drawn from
//                  a hash of the image's id), the target; what a deskewing step of a scanner learns
//   glyph-counts   a regression set: 1 to 9 copies of a glyph (drawn from a hash of the image's id), each in its own cell
//                  of a 3 × 3 grid at 0.4 of the usual size; the count is the target (counting objects)
//   DataPrep suite-glyph-weights|suite-glyph-styles|suite-glyph-angles|suite-glyph-counts <font-tree> <out-folder>
//     -> <out>/{train,test}/<id>_<char>.png and <out>/{train,test}.tsv (ImagePath, Weight or Tags, Family)
using System.Security.Cryptography;
using SkiaSharp;

internal static class SuiteGlyphWeights
{
    private const string Characters = "aegnoRSW38";

    public static int Run(string[] args) => Write(args, "glyph-weights", "Weight", t => t.FontStyle.Weight.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static int Styles(string[] args) => Write(args, "glyph-styles", "Tags", t => string.Join(';', StylesOf(t)));

    public static int Angles(string[] args) => Write(args, "glyph-angles", "Angle", _ => "",
        (t, c, file) => (SuiteGlyphs.Render(t, c, AngleOf(file)), AngleOf(file).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)));

    public static int Counts(string[] args) => Write(args, "glyph-counts", "Count", _ => "",
        (t, c, file) => (SuiteGlyphs.RenderCopies(t, c, CountOf(file), file), CountOf(file).ToString(System.Globalization.CultureInfo.InvariantCulture)));

    /// <summary>-45 to 45 degrees in steps of 0.1, uniform over the hash of the image's file name.</summary>
    private static float AngleOf(string fileName) => (float)(SuiteImages.Hash("angle:" + fileName) % 901) / 10f - 45f;

    /// <summary>1 to 9, uniform over the hash of the image's file name.</summary>
    private static int CountOf(string fileName) => (int)(SuiteImages.Hash("count:" + fileName) % 9) + 1;

    private static IEnumerable<string> StylesOf(SKTypeface t)
    {
        if (t.FontStyle.Weight >= 600) yield return "bold";
        if (t.FontStyle.Weight <= 300) yield return "light";
        if (t.FontStyle.Slant != SKFontStyleSlant.Upright) yield return "italic";
        if (t.FontStyle.Width < (int)SKFontStyleWidth.Normal) yield return "condensed";
        if (t.IsFixedPitch) yield return "monospace";
    }

    /// <param name="drawn">For a set whose target is how each image is drawn (typeface, character, file name → the image
    /// and its target); null draws every glyph upright and labels it with <paramref name="label"/> of its font.</param>
    private static int Write(string[] args, string name, string labelHeader, Func<SKTypeface, string> label,
                             Func<SKTypeface, char, string, (SKBitmap? Image, string Target)>? drawn = null)
    {
        string src = args[1], dst = args[2];
        if (Directory.Exists(dst)) Directory.Delete(dst, recursive: true);   // a rerun must not keep stale files
        var seenBytes = new HashSet<string>();
        var usedIds = new HashSet<string>();
        var rows = new Dictionary<string, List<string>> { ["train"] = [], ["test"] = [] };
        var labels = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int skipped = 0;
        foreach (var file in SuiteGlyphs.FontFiles(src))
        {
            byte[] bytes = File.ReadAllBytes(file);
            if (!seenBytes.Add(Convert.ToHexString(SHA256.HashData(bytes)))) { skipped++; continue; }
            using var typeface = SKTypeface.FromFile(file);
            if (typeface == null || !SuiteGlyphs.IsTextFamily(typeface) || !typeface.ContainsGlyphs(Characters)) { skipped++; continue; }
            string split = SuiteImages.Hash(typeface.FamilyName) % 4 == 0 ? "test" : "train";
            string id = Path.GetFileNameWithoutExtension(file);
            if (!usedIds.Add(id)) id += "_" + Convert.ToHexString(SHA256.HashData(bytes))[..8];
            // File names are case-sensitive on Linux; the character's code keeps 'S' and 's' apart everywhere.
            var fileNames = Characters.Select(c => $"{id}_{(int)c:x2}.png").ToList();
            var drawings = Characters.Select((c, k) => drawn?.Invoke(typeface, c, fileNames[k]) ?? (SuiteGlyphs.Render(typeface, c), "")).ToList();
            var images = drawings.Select(d => d.Image).ToList();
            if (images.Any(i => i == null)) { usedIds.Remove(id); foreach (var i in images) i?.Dispose(); skipped++; continue; }

            string value = label(typeface);
            for (int k = 0; k < Characters.Length; k++)
            {
                using var image = images[k]!;
                SuiteImages.Save(image, Path.Combine(dst, split, fileNames[k]));
                string target = drawn == null ? value : drawings[k].Target;
                rows[split].Add($"{split}/{fileNames[k]}\t{target}\t{typeface.FamilyName}");
            }
            labels[value] = labels.GetValueOrDefault(value) + 1;
        }
        foreach (var (split, lines) in rows)
            File.WriteAllLines(Path.Combine(dst, split + ".tsv"), [$"ImagePath\t{labelHeader}\tFamily", .. lines]);
        Console.WriteLine($"{name}: {rows["train"].Count} train and {rows["test"].Count} test images ({Characters.Length} per font), {skipped} font files skipped");
        if (drawn == null) Console.WriteLine($"fonts per {labelHeader.ToLowerInvariant()}: " + string.Join(", ", labels.Select(w => $"{(w.Key.Length == 0 ? "(none)" : w.Key)}: {w.Value}")));
        return 0;
    }
}
