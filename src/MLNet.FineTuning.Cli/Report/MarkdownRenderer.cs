using System.Text;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>report.md: GitHub-flavoured Markdown, pictures linked from the <c>report/</c> folder beside it.</summary>
internal static class MarkdownRenderer
{
    public const string PictureFolder = "report";

    public static string Render(ReportDocument document)
    {
        var md = new StringBuilder();
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case HeadingBlock h: md.Append('#', h.Level).Append(' ').AppendLine(h.Text).AppendLine(); break;
                case ParagraphBlock p: md.AppendLine(p.Text).AppendLine(); break;
                case PictureBlock p: md.AppendLine(Image(p.Picture)).AppendLine(); break;
                case TableBlock t:
                    md.AppendLine("| " + string.Join(" | ", t.Header.Select(Escape)) + " |");
                    md.AppendLine("|" + string.Concat(t.Header.Select(_ => "---|")));
                    foreach (var row in t.Rows)
                        md.AppendLine("| " + string.Join(" | ", row.Select(c => c.Picture is { } pic ? Image(pic) : Escape(c.Text))) + " |");
                    md.AppendLine();
                    break;
            }
        }
        return md.ToString();
    }

    static string Image(ReportPicture p) => $"![{Escape(p.Caption)}]({PictureFolder}/{p.FileName})";

    // A table cell ends at a pipe or a line break; Markdown's own characters would start links or emphasis.
    static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c is '\r' or '\n' or '\t') { sb.Append(' '); continue; }
            if (c is '|' or '\\' or '*' or '_' or '`' or '[' or ']' or '<' or '>' or '#') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
