// Shared recipe of the text data sets of the quality suite (data/suite/text/<name>/{train,test}.tsv):
// cleaning, de-duplication, the hash split and the TSV writer. samples/data/README.md
// ("Quality suite: text data sets") describes the files; every suite-* verb goes through Write.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

/// <summary>One example. <paramref name="Id"/> orders the rows; <paramref name="SplitKey"/> picks the side
/// (the same as Id unless rows must be kept together, e.g. all binaries of one Debian source package).</summary>
internal sealed record TextRow(string Label, string Text, string Id, string SplitKey);

internal static partial class SuiteText
{
    [GeneratedRegex("^[A-Za-z0-9_-]+$")] private static partial Regex LabelPattern();
    [GeneratedRegex("\x1B\\[[0-9;]*[A-Za-z]")] private static partial Regex AnsiEscape();

    /// <summary>Test iff the first 8 bytes of SHA-256(key), big-endian, mod 10 &lt; 3 (about 30%).</summary>
    public static bool IsTest(string key) => Hash(key) % 10 < 3;

    public static ulong Hash(string key) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Every run of whitespace and control characters becomes one space, ends trimmed, so that no
    /// tab or line break can reach the TSV. Terminal markup of the fortune files goes first: ANSI colour
    /// escapes, and overstriking ("X\bY", the old way to print bold or underlined) keeps only what was on top.</summary>
    public static string Clean(string text)
    {
        text = AnsiEscape().Replace(text, "");
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c == '\b') { if (sb.Length > 0) sb.Length--; continue; }
            sb.Append(c);
        }
        var outText = new StringBuilder(sb.Length);
        bool gap = false;
        for (int i = 0; i < sb.Length; i++)
        {
            char c = sb[i];
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { gap = true; continue; }
            if (gap && outText.Length > 0) outText.Append(' ');
            gap = false;
            outText.Append(c);
        }
        return outText.ToString();
    }

    /// <summary>At most <paramref name="max"/> characters, cut at the last space when there is one (so no
    /// word is cut in half), never half a surrogate pair.</summary>
    public static string CutAtWord(string text, int max)
    {
        if (text.Length <= max) return text;
        int space = text.LastIndexOf(' ', max);
        if (space > 0) return text[..space].TrimEnd();
        int n = char.IsHighSurrogate(text[max - 1]) ? max - 1 : max;
        return text[..n];
    }

    /// <summary>Drops empty texts, exact duplicate texts (the first one stays) and every text that occurs
    /// with two labels (it cannot be learnt and would leak between the splits).</summary>
    public static List<TextRow> Dedup(IEnumerable<TextRow> rows)
    {
        var all = rows.Where(r => r.Text.Length > 0).ToList();
        var labels = all.GroupBy(r => r.Text, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Label).Distinct().Count(), StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return all.Where(r => labels[r.Text] == 1 && seen.Add(r.Text)).ToList();
    }

    /// <summary>Keeps, per label, the rows with the smallest hash of their Id, so many that the split holds
    /// <paramref name="cap"/> rows in the label proportions (largest remainders get the odd rows).</summary>
    public static List<TextRow> StratifiedCap(List<TextRow> rows, int cap)
    {
        if (rows.Count <= cap) return rows;
        var groups = rows.GroupBy(r => r.Label).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var quota = groups.Select(g => (double)g.Count() * cap / rows.Count).ToArray();
        var take = quota.Select(q => (int)Math.Floor(q)).ToArray();
        int left = cap - take.Sum();
        foreach (int i in Enumerable.Range(0, groups.Count).OrderByDescending(i => quota[i] - take[i]).ThenBy(i => i).Take(left))
            take[i]++;
        return groups.SelectMany((g, i) => g.OrderBy(r => Hash(r.Id)).ThenBy(r => r.Id, StringComparer.Ordinal).Take(take[i])).ToList();
    }

    public static (List<TextRow> Train, List<TextRow> Test) Split(IEnumerable<TextRow> rows)
    {
        var list = rows.ToList();
        return (list.Where(r => !IsTest(r.SplitKey)).ToList(), list.Where(r => IsTest(r.SplitKey)).ToList());
    }

    /// <summary>Writes <c>dir/train.tsv</c> and <c>dir/test.tsv</c> (header Label&lt;TAB&gt;Text, rows sorted by
    /// label then id) and prints the per-split, per-class counts and the median text length.</summary>
    public static void Write(string dir, List<TextRow> train, List<TextRow> test)
    {
        Directory.CreateDirectory(dir);
        Console.WriteLine($"{dir}:");
        foreach (var (split, rows) in new[] { ("train", train), ("test", test) })
        {
            var sorted = rows.OrderBy(r => r.Label, StringComparer.Ordinal).ThenBy(r => r.Id, StringComparer.Ordinal).ToList();
            var sb = new StringBuilder("Label\tText\n");
            foreach (var r in sorted)
            {
                if (!LabelPattern().IsMatch(r.Label)) throw new InvalidDataException($"bad label '{r.Label}'");
                if (r.Text.Length == 0 || r.Text.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0 || r.Text != r.Text.Trim())
                    throw new InvalidDataException($"bad text for id '{r.Id}'");
                sb.Append(r.Label).Append('\t').Append(r.Text).Append('\n');
            }
            File.WriteAllText(Path.Combine(dir, split + ".tsv"), sb.ToString(), new UTF8Encoding(false));
            var counts = sorted.GroupBy(r => r.Label).Select(g => $"{g.Key} {g.Count()}");
            Console.WriteLine($"  {split}: {sorted.Count} rows, {sorted.Select(r => r.Label).Distinct().Count()} classes: {string.Join(", ", counts)}");
        }
        var lengths = train.Concat(test).Select(r => r.Text.Length).Order().ToList();
        double median = lengths.Count == 0 ? 0 : lengths.Count % 2 == 1
            ? lengths[lengths.Count / 2] : (lengths[lengths.Count / 2 - 1] + lengths[lengths.Count / 2]) / 2.0;
        Console.WriteLine($"  median text length: {median} characters (UTF-16), all rows");
    }

    /// <summary>The entries of a strfile fortune file: blocks between lines that hold only '%'.</summary>
    public static IEnumerable<string> FortuneEntries(string path)
    {
        var entry = new StringBuilder();
        // Strict UTF-8: every fortune file of bookworm is UTF-8 (the packages converted their KOI8-R and
        // ISO-8859 files); a file that is not must fail here rather than be read into replacement characters.
        foreach (string line in File.ReadLines(path, new UTF8Encoding(false, throwOnInvalidBytes: true)))
        {
            if (line.TrimEnd('\r') == "%") { yield return entry.ToString(); entry.Clear(); }
            else entry.Append(line).Append('\n');
        }
        if (entry.Length > 0) yield return entry.ToString();
    }
}
