// glyphs: the 62 characters 0-9, A-Z, a-z rendered from the TrueType/OpenType files of Debian font packages
// (eng/prepare-data.sh lists them). One 32×32 grayscale PNG per (font file, character), black on white.
// All glyphs of all fonts use ONE text size and ONE baseline, so that size and position carry the case
// ('c' vs 'C', 'o' vs 'O' differ only there); horizontally each glyph is centred by its ink bounds.
using System.Security.Cryptography;
using SkiaSharp;

internal static class SuiteGlyphs
{
    private const int Size = 32;
    private const float TextSize = 22f;   // em size in pixels: caps ~16 px high, descenders ~5 px
    private const float Baseline = 24f;   // leaves ~8 px above the cap height and ~8 px for descenders

    // Fonts that map letters to pictures or to math alphabets are not text fonts for this task.
    private static readonly string[] NotText = ["Symbol", "Dingbat", "Math", "D050000L", "Icon", "Awesome", "Emoji", "Wingding"];

    // fonts-noto-core also ships ~300 non-Latin script families; only its Latin text families are meant here.
    private static readonly string[] NotoLatin = ["NotoSans-", "NotoSerif-", "NotoSansDisplay-", "NotoSerifDisplay-", "NotoSansMono-", "NotoMono-"];

    private static readonly (string Class, char Char)[] Characters =
        [.. "0123456789".Select(c => ($"digit_{c}", c)),
         .. "ABCDEFGHIJKLMNOPQRSTUVWXYZ".Select(c => ($"upper_{c}", c)),
         .. "abcdefghijklmnopqrstuvwxyz".Select(c => ($"lower_{c}", c))];

    public static void Write(string src, string dst, Action<string, string> count)
    {
        var files = FontFiles(src);
        var seenBytes = new HashSet<string>();
        var usedIds = new HashSet<string>();
        int used = 0, testFonts = 0;
        var skipped = new List<string>();
        foreach (var file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            string digest = Convert.ToHexString(SHA256.HashData(bytes));
            if (!seenBytes.Add(digest)) { skipped.Add($"{file} (same bytes as an earlier file)"); continue; }
            using var typeface = SKTypeface.FromFile(file);
            if (typeface == null) { skipped.Add($"{file} (not loadable)"); continue; }
            if (!IsTextFamily(typeface)) { skipped.Add($"{file} (symbol/math family {typeface.FamilyName})"); continue; }
            if (!typeface.ContainsGlyphs(new string(Characters.Select(c => c.Char).ToArray()))) { skipped.Add($"{file} (lacks some of the 62 characters)"); continue; }

            var images = Characters.Select(c => Render(typeface, c.Char)).ToList();
            if (images.Any(i => i == null)) { foreach (var i in images) i?.Dispose(); skipped.Add($"{file} (a character renders without ink)"); continue; }

            // Group split by font file: every glyph of a font lands on one side, so test fonts are never seen in
            // training. The key is the file NAME, so the same font shipped by two packages (e.g. Liberation 1 and 2) stays together.
            string name = Path.GetFileName(file);
            string split = SuiteImages.Hash(name) % 4 == 0 ? "test" : "train";
            string id = Path.GetFileNameWithoutExtension(file);
            if (!usedIds.Add(id)) id += "_" + digest[..8];
            for (int k = 0; k < Characters.Length; k++)
            {
                using var image = images[k]!;
                SuiteImages.Save(image, Path.Combine(dst, split, Characters[k].Class, id + ".png"));
                count(split, Characters[k].Class);
            }
            used++;
            if (split == "test") testFonts++;
        }
        Console.WriteLine($"glyphs: {files.Count} candidate font files, {used} used ({used - testFonts} train, {testFonts} test), {skipped.Count} skipped:");
        foreach (var s in skipped) Console.WriteLine($"  skipped {s}");
    }

    /// <summary>The .ttf/.otf files under <paramref name="src"/> in ordinal order, of fonts-noto-core only its Latin text families.</summary>
    internal static List<string> FontFiles(string src) => Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories)
        .Where(f => f.EndsWith(".ttf", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".otf", StringComparison.OrdinalIgnoreCase))
        .Where(f => !Path.GetFileName(f).StartsWith("Noto", StringComparison.Ordinal) || NotoLatin.Any(p => Path.GetFileName(f).StartsWith(p, StringComparison.Ordinal)))
        .Order(StringComparer.Ordinal).ToList();

    /// <summary>Whether the family writes text (not pictures or math alphabets).</summary>
    internal static bool IsTextFamily(SKTypeface typeface) => !NotText.Any(n => typeface.FamilyName.Contains(n, StringComparison.OrdinalIgnoreCase));

    /// <summary><paramref name="copies"/> (1-9) copies of one character at 0.4 of the usual size, each centred by its
    /// ink in its own cell of a 3 × 3 grid, the cells drawn from <paramref name="key"/>'s hash (glyph-counts); null when it
    /// leaves no ink.</summary>
    internal static SKBitmap? RenderCopies(SKTypeface typeface, char c, int copies, string key)
    {
        const float cell = Size / 3f;
        var cells = Enumerable.Range(0, 9).OrderBy(i => SuiteImages.Hash($"{key}:cell{i}")).Take(copies);
        return DrawGlyph(typeface, c, TextSize * 0.4f, (canvas, drawAt, ink) =>
        {
            foreach (int i in cells)
                drawAt((i % 3 + 0.5f) * cell - (ink.Left + ink.Right) / 2f, (i / 3 + 0.5f) * cell - (ink.Top + ink.Bottom) / 2f);
        });
    }

    /// <summary>One character, black on white, as an 8-bit grayscale bitmap, turned <paramref name="degrees"/> clockwise
    /// about the image's centre (corners of a large glyph may leave the image); null when it leaves no ink.</summary>
    internal static SKBitmap? Render(SKTypeface typeface, char c, float degrees = 0) =>
        DrawGlyph(typeface, c, TextSize, (canvas, drawAt, ink) =>
        {
            if (degrees != 0) canvas.RotateDegrees(degrees, Size / 2f, Size / 2f);
            drawAt(Size / 2f - (ink.Left + ink.Right) / 2f, Baseline);
        });

    /// <summary>Character <paramref name="c"/> at <paramref name="textSize"/>, placed by <paramref name="place"/> (the canvas,
    /// a function that draws the character with its origin at (x, y), and its ink bounds about that origin); null when the
    /// character has no ink.</summary>
    private static SKBitmap? DrawGlyph(SKTypeface typeface, char c, float textSize, Action<SKCanvas, Action<float, float>, SKRect> place)
    {
        using var font = new SKFont(typeface, textSize) { Edging = SKFontEdging.Antialias, Subpixel = true };
        using var paint = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        string text = c.ToString();
        Span<ushort> glyph = stackalloc ushort[1];
        font.GetGlyphs(text, glyph);
        font.MeasureText(glyph, out var ink, paint);
        if (ink.IsEmpty) return null;
        return Draw(canvas => place(canvas, (x, y) => canvas.DrawText(text, x, y, font, paint), ink));
    }

    /// <summary>What <paramref name="paint"/> draws on a white Size × Size canvas, as an 8-bit grayscale bitmap.</summary>
    private static SKBitmap Draw(Action<SKCanvas> paint)
    {
        using var rgb = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgb888x, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(rgb))
        {
            canvas.Clear(SKColors.White);
            paint(canvas);
        }
        var gray = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Gray8, SKAlphaType.Opaque));
        using var pixmap = rgb.PeekPixels();   // Skia draws into RGB only; read back as luminance
        if (!pixmap.ReadPixels(gray.Info, gray.GetPixels(), gray.RowBytes)) throw new InvalidOperationException("Gray8 conversion failed.");
        return gray;
    }
}
