using System.CommandLine;
using System.Globalization;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary>
/// The options of one command, kept so that the run can be recorded: <see cref="Resolve"/> gives every option the
/// user set (by its name, as the command line writes it), and <c>train --config</c> turns that record back into
/// the same command line, so a rerun goes through the same parser and checks.
/// </summary>
internal sealed class RecordedOptions
{
    readonly List<(Option Option, bool IsPath)> options = [];

    /// <summary>Adds <paramref name="option"/> to <paramref name="command"/>; recorded unless <paramref name="record"/>
    /// is false (--force and --resume: a rerun decides those itself).</summary>
    public Option<T> Add<T>(Command command, Option<T> option, bool isPath = false, bool record = true)
    {
        command.Options.Add(option);
        if (record) options.Add((option, isPath));
        return option;
    }

    /// <summary>The options given (explicitly or by a default the tool sets), as command-line text.</summary>
    public SortedDictionary<string, string> Resolve(ParseResult result)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (option, isPath) in options)
        {
            var r = result.GetResult(option);
            if (r == null) continue;   // not given and no default: the library's default applies
            object? value = r.GetValueOrDefault<object?>();
            switch (value)
            {
                case null: break;
                case bool b: if (b) values[option.Name] = "true"; break;
                case IFormattable f: values[option.Name] = f.ToString(null, CultureInfo.InvariantCulture); break;
                // Paths are recorded absolute, so that the record reruns from any working folder.
                case string path when isPath: values[option.Name] = Path.GetFullPath(path); break;
                default: values[option.Name] = value.ToString()!; break;
            }
        }
        return values;
    }

    /// <summary>Adds a range check to <paramref name="option"/>: <paramref name="problem"/> returns the message for a bad
    /// value, or null. A value that does not parse at all is left to the parser's own message.</summary>
    public static void Check<T>(Option<T> option, Func<T, string?> problem) => option.Validators.Add(r =>
    {
        T value;
        try { value = r.GetValueOrDefault<T>(); }
        catch (InvalidOperationException) { return; }
        if (problem(value) is string message) r.AddError(message);
    });
}
