// emoji: the 64 px PNG renderings of the npm emoji-datasource-<vendor> packages (one package per vendor,
// unpacked to <src>/<vendor>/package), labelled by the Unicode emoji category that emoji.json gives.
// Only base emoji (emoji.json's top-level entries; their skin-tone variants sit in skin_variations and are
// not used), only where the vendor has its own image (has_img_<vendor>: the packages fill gaps with
// other vendors' images otherwise). The Component category (skin-tone swatches, hair parts) is dropped.
using System.Text.Json;
using SkiaSharp;

internal static class SuiteEmoji
{
    public static void Write(string src, string dst, Action<string, string> count, string[] vendors)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(src, vendors[0], "package", "emoji.json")));
        foreach (var e in json.RootElement.EnumerateArray())
        {
            string category = e.GetProperty("category").GetString()!;
            if (category == "Component") continue;
            // "Smileys & Emotion" -> "Smileys_Emotion": folder names of ASCII letters, digits and '_' only.
            string cls = category.Replace(" & ", "_").Replace(' ', '_');
            string unified = e.GetProperty("unified").GetString()!;
            // Split by emoji: every vendor's rendering of one emoji is on the same side (no look-alike leakage).
            string split = SuiteImages.Hash(unified) % 4 == 0 ? "test" : "train";
            foreach (var vendor in vendors)
            {
                if (!e.GetProperty($"has_img_{vendor}").GetBoolean()) continue;
                string path = Path.Combine(src, vendor, "package", "img", vendor, "64", e.GetProperty("image").GetString()!);
                using var image = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not a decodable image.");
                SuiteImages.SaveOnWhite(image, 64, Path.Combine(dst, split, cls, $"{vendor}_{unified}.png"));
                count(split, cls);
            }
        }
    }
}
