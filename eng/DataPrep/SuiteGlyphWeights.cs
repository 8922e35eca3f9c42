// glyph-weights: a regression set from the same Debian font packages as glyphs (eng/prepare-data.sh): ten characters
// of every text font, rendered as glyphs renders them (32×32, black on white, one size and baseline), each labelled with
// its font's weight class, the number from 100 (thin) to 900 (black) that the font file itself declares (OpenType OS/2
// usWeightClass, read by Skia). A regressor must read the weight from the strokes of a font it has never seen: the split
// is by family, so every weight of a family lands on one side.
//   DataPrep suite-glyph-weights <font-tree> <out-folder>  ->  <out>/{train,test}/<id>_<char>.png and <out>/{train,test}.tsv
using System.Security.Cryptography;
using SkiaSharp;

internal static class SuiteGlyphWeights
{
    private const string Characters = "aegnoRSW38";

    public static int Run(string[] args)
    {
        string src = args[1], dst = args[2];
        if (Directory.Exists(dst)) Directory.Delete(dst, recursive: true);   // a rerun must not keep stale files
        var seenBytes = new HashSet<string>();
        var usedIds = new HashSet<string>();
        var rows = new Dictionary<string, List<string>> { ["train"] = [], ["test"] = [] };
        var weights = new SortedDictionary<int, int>();
        int skipped = 0;
        foreach (var file in SuiteGlyphs.FontFiles(src))
        {
            byte[] bytes = File.ReadAllBytes(file);
            if (!seenBytes.Add(Convert.ToHexString(SHA256.HashData(bytes)))) { skipped++; continue; }
            using var typeface = SKTypeface.FromFile(file);
            if (typeface == null || !SuiteGlyphs.IsTextFamily(typeface) || !typeface.ContainsGlyphs(Characters)) { skipped++; continue; }
            var images = Characters.Select(c => SuiteGlyphs.Render(typeface, c)).ToList();
            if (images.Any(i => i == null)) { foreach (var i in images) i?.Dispose(); skipped++; continue; }

            int weight = typeface.FontStyle.Weight;
            string split = SuiteImages.Hash(typeface.FamilyName) % 4 == 0 ? "test" : "train";
            string id = Path.GetFileNameWithoutExtension(file);
            if (!usedIds.Add(id)) id += "_" + Convert.ToHexString(SHA256.HashData(bytes))[..8];
            for (int k = 0; k < Characters.Length; k++)
            {
                using var image = images[k]!;
                // File names are case-sensitive on Linux; the character's code keeps 'S' and 's' apart everywhere.
                string name = $"{id}_{(int)Characters[k]:x2}.png";
                SuiteImages.Save(image, Path.Combine(dst, split, name));
                rows[split].Add($"{split}/{name}\t{weight}\t{typeface.FamilyName}");
            }
            weights[weight] = weights.GetValueOrDefault(weight) + 1;
        }
        foreach (var (split, lines) in rows)
            File.WriteAllLines(Path.Combine(dst, split + ".tsv"), ["ImagePath\tWeight\tFamily", .. lines]);
        Console.WriteLine($"glyph-weights: {rows["train"].Count} train and {rows["test"].Count} test images ({Characters.Length} per font), {skipped} font files skipped");
        Console.WriteLine("fonts per weight class: " + string.Join(", ", weights.Select(w => $"{w.Key}: {w.Value}")));
        return 0;
    }
}
