// The four text data sets of the quality suite, one verb each (eng/prepare-data.sh suite-text runs them):
//   suite-debian-packages   Debian package index: short description -> section
//   suite-fortunes-topics   English fortune files: entry -> category file
//   suite-fortunes-language fortune packages of many languages: entry -> language
//   suite-first-names       npm @stdlib first-name lists: name -> female/male
// The recipe shared by all (cleaning, de-duplication, split, writer) is in SuiteText.cs.
internal static class SuiteTextSets
{
    /// <summary>suite-debian-packages &lt;Packages&gt; &lt;out-root&gt; [--min-rows 60] [--train-cap 6000] [--test-cap 3000]:
    /// writes &lt;out-root&gt;/debian-packages-full (all rows) and &lt;out-root&gt;/debian-packages (capped).</summary>
    public static int DebianPackages(string[] args)
    {
        string index = args[1], root = args[2];
        int minRows = Options.Int(args, "--min-rows", 60);
        var rows = new List<TextRow>();
        foreach (var stanza in Stanzas(index))
        {
            if (!stanza.TryGetValue("Package", out var package) || !stanza.TryGetValue("Section", out var section)
                || !stanza.TryGetValue("Description", out var description)) continue;
            // contrib/ and non-free/ packages carry their area as a prefix; the label is the section alone.
            int slash = section.IndexOf('/');
            if (slash >= 0) section = section[(slash + 1)..];
            // "Source: name (version)" when the version differs from the binary's; no Source: when the
            // source package has the binary's name. All binaries of one source share one side of the split:
            // they often have near-identical descriptions ("... (development files)", "... (documentation)").
            string source = stanza.TryGetValue("Source", out var s) ? s.Split(' ')[0] : package;
            rows.Add(new TextRow(section, SuiteText.Clean(description), package, source));
        }
        Console.WriteLine($"{rows.Count} packages read from {index}");
        var kept = SuiteText.Dedup(rows);
        // A section is kept with at least minRows rows and rows on both sides of the split: "tasks" (all
        // from source tasksel) would otherwise be a class that the test split never asks for.
        var big = kept.GroupBy(r => r.Label).Where(g => g.Count() >= minRows).Select(g => g.Key).ToHashSet();
        var bothSides = kept.GroupBy(r => r.Label)
            .Where(g => g.Any(r => SuiteText.IsTest(r.SplitKey)) && g.Any(r => !SuiteText.IsTest(r.SplitKey)))
            .Select(g => g.Key).ToHashSet();
        foreach (var g in kept.GroupBy(r => r.Label).Where(g => !big.Contains(g.Key) || !bothSides.Contains(g.Key)).OrderBy(g => g.Key, StringComparer.Ordinal))
            Console.WriteLine($"  skipped section {g.Key}: {g.Count()} rows{(big.Contains(g.Key) ? ", all on one side of the split" : "")}");
        kept = kept.Where(r => big.Contains(r.Label) && bothSides.Contains(r.Label)).ToList();
        var (train, test) = SuiteText.Split(kept);
        SuiteText.Write(Path.Combine(root, "debian-packages-full"), train, test);
        // The capped version keeps the suite fast; a stratified subset of each side stays leakage-free.
        SuiteText.Write(Path.Combine(root, "debian-packages"),
            SuiteText.StratifiedCap(train, Options.Int(args, "--train-cap", 6000)),
            SuiteText.StratifiedCap(test, Options.Int(args, "--test-cap", 3000)));
        return 0;
    }

    /// <summary>suite-package-sizes &lt;Packages&gt; &lt;out-dir&gt; [--train-cap 1000] [--test-cap 1000]: a regression set, the
    /// short description -> log10 of the package's Installed-Size (KiB, as the index declares it). Split by source
    /// package as debian-packages; a text that occurs twice is dropped with every copy (its sizes differ: no single answer).
    /// Writes &lt;out-dir&gt;/{train,test}.tsv with the header Target&lt;TAB&gt;Text.</summary>
    public static int PackageSizes(string[] args)
    {
        string index = args[1], dir = args[2];
        var rows = new List<TargetRow>();
        foreach (var stanza in Stanzas(index))
        {
            if (!stanza.TryGetValue("Package", out var package) || !stanza.TryGetValue("Installed-Size", out var size)
                || !stanza.TryGetValue("Description", out var description) || !long.TryParse(size, out long kib) || kib <= 0) continue;
            string source = stanza.TryGetValue("Source", out var s) ? s.Split(' ')[0] : package;
            rows.Add(new TargetRow(Math.Log10(kib), SuiteText.Clean(description), package, source));
        }
        Console.WriteLine($"{rows.Count} packages read from {index}");
        SuiteTextRegression.Write(dir, rows, args, "log10 KiB");
        return 0;
    }

    /// <summary>suite-package-pairs &lt;Packages&gt; &lt;out-dir&gt; [--train-cap 1000] [--test-cap 1000]: a sentence-pair set,
    /// (package name, short description) -> match or other. Each package of the capped side gives one pair: its own
    /// description (match) when the hash of its name is even, else the description of the next package of the same
    /// section and side in hash order (other), so a partner is about the same kind of thing ("Python 3 module for ...")
    /// and only reading both texts tells them apart. Split by source package as debian-packages. Writes
    /// &lt;out-dir&gt;/{train,test}.tsv with the header Label&lt;TAB&gt;Name&lt;TAB&gt;Text.</summary>
    public static int PackagePairs(string[] args)
    {
        string index = args[1], dir = args[2];
        var rows = new List<(string Package, string Section, string Text, string Source)>();
        foreach (var stanza in Stanzas(index))
        {
            if (!stanza.TryGetValue("Package", out var package) || !stanza.TryGetValue("Section", out var section)
                || !stanza.TryGetValue("Description", out var description)) continue;
            string source = stanza.TryGetValue("Source", out var s) ? s.Split(' ')[0] : package;
            rows.Add((package, section[(section.IndexOf('/') + 1)..], SuiteText.Clean(description), source));
        }
        // A description shared by two packages would make some "other" pairs true matches: drop every copy.
        var once = rows.Where(r => r.Text.Length > 0).GroupBy(r => r.Text, StringComparer.Ordinal).Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
        Directory.CreateDirectory(dir);
        foreach (var (split, test, cap) in new[] { ("train", false, Options.Int(args, "--train-cap", 1000)), ("test", true, Options.Int(args, "--test-cap", 1000)) })
        {
            var side = once.Where(r => SuiteText.IsTest(r.Source) == test).ToList();
            var partner = side.GroupBy(r => r.Section).SelectMany(g =>
            {
                var ordered = g.OrderBy(r => SuiteText.Hash(r.Package)).ThenBy(r => r.Package, StringComparer.Ordinal).ToList();
                return ordered.Select((r, i) => (r.Package, Partner: ordered[(i + 1) % ordered.Count].Text, Alone: ordered.Count == 1));
            }).ToDictionary(x => x.Package, x => (x.Partner, x.Alone), StringComparer.Ordinal);
            var chosen = side.Where(r => !partner[r.Package].Alone)
                .OrderBy(r => SuiteText.Hash(r.Package)).ThenBy(r => r.Package, StringComparer.Ordinal).Take(cap)
                .OrderBy(r => r.Package, StringComparer.Ordinal)
                .Select(r => SuiteText.Hash("pair:" + r.Package) % 2 == 0 ? ("match", r.Package, r.Text) : ("other", r.Package, partner[r.Package].Partner))
                .ToList();
            File.WriteAllLines(Path.Combine(dir, split + ".tsv"), ["Label\tName\tText", .. chosen.Select(c => $"{c.Item1}\t{c.Item2}\t{c.Item3}")]);
            Console.WriteLine($"  {split}: {chosen.Count} pairs, {chosen.Count(c => c.Item1 == "match")} match");
        }
        return 0;
    }

    /// <summary>suite-package-tags &lt;Packages&gt; &lt;out-dir&gt; [--labels 20] [--train-cap 2000] [--test-cap 1000]: a multi-label
    /// set, the short description -> the package's debtags (the index's Tag: field, e.g. "interface::commandline,
    /// implemented-in::c"), restricted to the <c>--labels</c> tags most frequent over all tagged packages. Only tagged
    /// packages; a row may have none of the kept tags (an empty set). Split by source package as debian-packages; a text
    /// that occurs twice is dropped with every copy. Writes &lt;out-dir&gt;/{train,test}.tsv with the header
    /// Tags&lt;TAB&gt;Text, the tags separated by ';'.</summary>
    public static int PackageTags(string[] args)
    {
        string index = args[1], dir = args[2];
        var rows = new List<(string[] Tags, string Text, string Id, string Source)>();
        foreach (var stanza in Stanzas(index))
        {
            if (!stanza.TryGetValue("Package", out var package) || !stanza.TryGetValue("Tag", out var tag)
                || !stanza.TryGetValue("Description", out var description)) continue;
            string source = stanza.TryGetValue("Source", out var s) ? s.Split(' ')[0] : package;
            var tags = tag.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            rows.Add((tags, SuiteText.Clean(description), package, source));
        }
        var kept = rows.SelectMany(r => r.Tags).GroupBy(t => t, StringComparer.Ordinal)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(Options.Int(args, "--labels", 20)).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var once = rows.Where(r => r.Text.Length > 0).GroupBy(r => r.Text, StringComparer.Ordinal).Where(g => g.Count() == 1).Select(g => g.Single()).ToList();
        Console.WriteLine($"{rows.Count} tagged packages read from {index}, {once.Count} with a description of their own; labels: {string.Join(", ", kept.Order(StringComparer.Ordinal))}");
        Directory.CreateDirectory(dir);
        foreach (var (split, test, cap) in new[] { ("train", false, Options.Int(args, "--train-cap", 2000)), ("test", true, Options.Int(args, "--test-cap", 1000)) })
        {
            var side = once.Where(r => SuiteText.IsTest(r.Source) == test)
                .OrderBy(r => SuiteText.Hash(r.Id)).ThenBy(r => r.Id, StringComparer.Ordinal).Take(cap)
                .OrderBy(r => r.Id, StringComparer.Ordinal)
                .Select(r => (Tags: r.Tags.Where(kept.Contains).Order(StringComparer.Ordinal).ToArray(), r.Text)).ToList();
            File.WriteAllLines(Path.Combine(dir, split + ".tsv"), ["Tags\tText", .. side.Select(r => $"{string.Join(';', r.Tags)}\t{r.Text}")]);
            Console.WriteLine($"  {split}: {side.Count} rows, {side.Average(r => r.Tags.Length):F2} labels per row, {side.Count(r => r.Tags.Length == 0)} with none");
        }
        return 0;
    }

    /// <summary>The fields of each stanza of a Debian index (first line of each field only, so the short description is
    /// the first line of Description:; Tag: whole, as its tags run over continuation lines).</summary>
    private static IEnumerable<Dictionary<string, string>> Stanzas(string path)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string? last = null;
        foreach (string line in File.ReadLines(path))
        {
            if (line.Length == 0) { if (fields.Count > 0) yield return fields; fields = new(StringComparer.Ordinal); last = null; continue; }
            if (line[0] == ' ' || line[0] == '\t')   // continuation line
            {
                if (last == "Tag") fields[last] += " " + line.Trim();
                continue;
            }
            int colon = line.IndexOf(':');
            if (colon > 0) fields[last = line[..colon]] = line[(colon + 1)..].Trim();
        }
        if (fields.Count > 0) yield return fields;
    }

    // Category files of `fortunes` that are not about one subject: general collections (fortunes, cookie,
    // miscellaneous, platitudes), one author's or one person's collection over all subjects (zippy,
    // knghtbrd), pictures (ascii-art), and ethnic jokes (a label built on ethnic stereotypes is nothing a
    // quality suite should reward).
    private static readonly HashSet<string> NotTopics =
        ["fortunes", "cookie", "miscellaneous", "platitudes", "zippy", "knghtbrd", "ascii-art", "ethnic"];

    /// <summary>suite-fortunes-topics &lt;out-dir&gt; &lt;file&gt;... [--min-rows 150]: label = the file name.</summary>
    public static int FortunesTopics(string[] args)
    {
        string dst = args[1];
        int minRows = Options.Int(args, "--min-rows", 150);
        var rows = new List<TextRow>();
        foreach (string file in Positional(args, 2))
        {
            string label = Path.GetFileName(file);
            if (NotTopics.Contains(label)) { Console.WriteLine($"  skipped (not a topic): {label}"); continue; }
            foreach (string entry in SuiteText.FortuneEntries(file))
            {
                string text = SuiteText.Clean(entry);
                rows.Add(new TextRow(label, text, label + "\t" + text, label + "\t" + text));
            }
        }
        var kept = SuiteText.Dedup(rows);
        foreach (var g in kept.GroupBy(r => r.Label).Where(g => g.Count() < minRows))
            Console.WriteLine($"  skipped (only {g.Count()} entries): {g.Key}");
        kept = kept.GroupBy(r => r.Label).Where(g => g.Count() >= minRows).SelectMany(g => g).ToList();
        var (train, test) = SuiteText.Split(kept);
        SuiteText.Write(dst, train, test);
        return 0;
    }

    /// <summary>suite-fortunes-language &lt;out-dir&gt; &lt;lang&gt;=&lt;file&gt;... [--max-chars 400] [--cap 1200] [--min-rows 200]:
    /// label = the language code before '='.</summary>
    public static int FortunesLanguage(string[] args)
    {
        string dst = args[1];
        int maxChars = Options.Int(args, "--max-chars", 400), cap = Options.Int(args, "--cap", 1200);
        int minRows = Options.Int(args, "--min-rows", 200);
        var rows = new List<TextRow>();
        foreach (string arg in Positional(args, 2))
        {
            string lang = arg[..arg.IndexOf('=')], file = arg[(arg.IndexOf('=') + 1)..];
            foreach (string entry in SuiteText.FortuneEntries(file))
            {
                string text = SuiteText.CutAtWord(SuiteText.Clean(entry), maxChars);
                rows.Add(new TextRow(lang, text, lang + "\t" + text, lang + "\t" + text));
            }
        }
        var kept = new List<TextRow>();
        foreach (var g in SuiteText.Dedup(rows).GroupBy(r => r.Label))
        {
            if (g.Count() < minRows) { Console.WriteLine($"  skipped (only {g.Count()} entries): {g.Key}"); continue; }
            // The same number of entries per language (at most), chosen by hash order: no language dominates.
            kept.AddRange(g.OrderBy(r => SuiteText.Hash(r.Id)).ThenBy(r => r.Id, StringComparer.Ordinal).Take(cap));
        }
        var (train, test) = SuiteText.Split(kept);
        SuiteText.Write(dst, train, test);
        return 0;
    }

    /// <summary>suite-first-names &lt;female-names.txt&gt; &lt;male-names.txt&gt; &lt;out-dir&gt;: one name a line;
    /// a name on both lists is dropped (Dedup drops texts with two labels).</summary>
    public static int FirstNames(string[] args)
    {
        var rows = new List<TextRow>();
        foreach (var (label, file) in new[] { ("female", args[1]), ("male", args[2]) })
            foreach (string line in File.ReadLines(file))
            {
                string name = SuiteText.Clean(line);
                rows.Add(new TextRow(label, name, name, name));
            }
        var (train, test) = SuiteText.Split(SuiteText.Dedup(rows));
        SuiteText.Write(args[3], train, test);
        return 0;
    }

    /// <summary>The arguments from <paramref name="start"/> on, less the --name value options.</summary>
    private static IEnumerable<string> Positional(string[] args, int start)
    {
        for (int i = start; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal)) { i++; continue; }
            yield return args[i];
        }
    }
}
