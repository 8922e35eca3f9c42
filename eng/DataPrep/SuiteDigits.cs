// digits: scikit-learn's copy of the UCI optdigits test set (Debian python3-sklearn,
// sklearn/datasets/data/digits.csv.gz): 1,797 rows of 64 pixel values 0..16 (8×8, row-major) and the label last.
using System.IO.Compression;
using SkiaSharp;

internal static class SuiteDigits
{
    public static void Write(string src, string dst, Action<string, string> count)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(Path.Combine(src, "digits.csv.gz")), CompressionMode.Decompress));
        int row = 0;
        for (string? line; (line = reader.ReadLine()) != null; row++)
        {
            if (line.Length == 0) continue;
            var values = line.Split(',').Select(v => (int)double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            if (values.Length != 65) throw new InvalidDataException($"digits.csv.gz row {row}: {values.Length} values, expected 65.");
            using var bitmap = new SKBitmap(new SKImageInfo(8, 8, SKColorType.Gray8, SKAlphaType.Opaque));
            var pixels = new byte[64];
            for (int i = 0; i < 64; i++) pixels[i] = (byte)(values[i] * 255 / 16);   // 0..16 -> 0..255, ink is bright as in the source
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), 64);
            // Split by row index: test iff hash mod 10 < 3. (The file carries no writer id, so no group split is possible.)
            string split = SuiteImages.Hash(row.ToString(System.Globalization.CultureInfo.InvariantCulture)) % 10 < 3 ? "test" : "train";
            string cls = values[64].ToString(System.Globalization.CultureInfo.InvariantCulture);
            SuiteImages.Save(bitmap, Path.Combine(dst, split, cls, $"{row:D4}.png"));
            count(split, cls);
        }
    }
}
