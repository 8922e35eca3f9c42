using System.Globalization;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>`--name value` options of the benchmark modes that take a few (serve, leak).</summary>
internal static class CommandArgs
{
    public static string? Value(string[] args, string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    public static int Int(string[] args, string name, int fallback) => Value(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
