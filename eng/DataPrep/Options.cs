/// <summary>The <c>--name value</c> options of the DataPrep verbs.</summary>
internal static class Options
{
    public static int Int(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
