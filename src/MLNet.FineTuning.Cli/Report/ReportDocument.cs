namespace MLNet.FineTuning.Cli.Report;

/// <summary>
/// The training report as a list of blocks, written once and rendered twice: report.md (pictures as files beside it)
/// and report.html (one self-contained page, pictures inlined). Keeping the content apart from the two formats is what
/// keeps them saying the same thing.
/// </summary>
internal sealed class ReportDocument
{
    readonly List<ReportBlock> blocks = [];
    public IReadOnlyList<ReportBlock> Blocks => blocks;

    public ReportDocument Heading(string text, int level = 2) { blocks.Add(new HeadingBlock(text, level)); return this; }
    public ReportDocument Paragraph(string text) { blocks.Add(new ParagraphBlock(text)); return this; }
    public ReportDocument Picture(ReportPicture picture) { blocks.Add(new PictureBlock(picture)); return this; }

    /// <summary>A table; a cell may hold a picture (a thumbnail) instead of text.</summary>
    public ReportDocument Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<ReportCell>> rows)
    {
        blocks.Add(new TableBlock(header, [.. rows]));
        return this;
    }
}

internal abstract record ReportBlock;
internal sealed record HeadingBlock(string Text, int Level) : ReportBlock;
internal sealed record ParagraphBlock(string Text) : ReportBlock;
internal sealed record PictureBlock(ReportPicture Picture) : ReportBlock;
internal sealed record TableBlock(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<ReportCell>> Rows) : ReportBlock;

/// <summary>A PNG picture: its file name under the report's folder, its caption and its bytes.</summary>
internal sealed record ReportPicture(string FileName, string Caption, byte[] Png);

/// <summary>A table cell: text, or a picture with its text as the alternative.</summary>
internal sealed record ReportCell(string Text, ReportPicture? Picture = null)
{
    public static implicit operator ReportCell(string text) => new(text);
}
