using System.Text;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// Splits delimited text into records of fields, each with the line it starts on. With quoting (CSV, RFC 4180) a
/// field that begins with a double quote runs to the next lone double quote, may hold separators and line breaks, and
/// writes a double quote as two; a quote elsewhere in a field is an ordinary character. Without quoting (TSV) every
/// line is one record. Lines that hold only white space are skipped; nothing else is (ML.NET's TextLoader also skips
/// lines that begin with "//", which would drop such a text without a word).
/// </summary>
internal static class DelimitedRecords
{
    /// <summary>One record: its fields and the 1-based line it starts on.</summary>
    public readonly record struct Record(int Line, IReadOnlyList<string> Fields);

    /// <exception cref="InvalidDataException">A quoted field is not closed, or something other than a separator or the
    /// end of the line follows its closing quote; the message names the line.</exception>
    public static IEnumerable<Record> Read(TextReader reader, char separator, bool quoting)
    {
        int lineNumber = 0;
        while (reader.ReadLine() is string line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            if (!quoting) { yield return new Record(lineNumber, line.Split(separator)); continue; }

            int start = lineNumber;
            var fields = new List<string>();
            var field = new StringBuilder();
            int i = 0;
            while (true)
            {
                if (i < line.Length && line[i] == '"')
                {
                    // A quoted field: read past line ends until its closing quote.
                    int opened = lineNumber;
                    i++;
                    while (true)
                    {
                        int quote = line.IndexOf('"', i);
                        if (quote < 0)
                        {
                            field.Append(line, i, line.Length - i).Append('\n');
                            line = reader.ReadLine() ?? throw new InvalidDataException(
                                $"line {opened}: a field opens with a double quote that is never closed (a quote inside a quoted field is written twice: \"\").");
                            lineNumber++;
                            i = 0;
                            continue;
                        }
                        field.Append(line, i, quote - i);
                        i = quote + 1;
                        if (i < line.Length && line[i] == '"') { field.Append('"'); i++; continue; }
                        break;
                    }
                    if (i < line.Length && line[i] != separator)
                        throw new InvalidDataException(
                            $"line {lineNumber}: '{line[i]}' follows the closing double quote of a field; a quoted field ends at a separator ('{Name(separator)}') or the line's end, and a quote inside it is written twice (\"\").");
                }
                else
                {
                    int end = line.IndexOf(separator, i);
                    field.Append(line, i, (end < 0 ? line.Length : end) - i);
                    i = end < 0 ? line.Length : end;
                }
                fields.Add(field.ToString());
                field.Clear();
                if (i >= line.Length) break;
                i++;   // past the separator: another field follows, empty if the line ends here
            }
            yield return new Record(start, fields);
        }
    }

    /// <summary>How a message names <paramref name="separator"/>.</summary>
    public static string Name(char separator) => separator == '\t' ? "tab" : separator.ToString();
}
