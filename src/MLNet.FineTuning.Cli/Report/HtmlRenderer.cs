using System.Net;
using System.Text;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>report.html: one page with its pictures inlined as data URIs, so it opens and travels as a single file.</summary>
internal static class HtmlRenderer
{
    const string Style =
        "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}" +
        "table{border-collapse:collapse;margin:0.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}" +
        "th{background:#f3f3f3}figure{margin:0.5em 0 1.5em}figcaption{color:#555;font-size:0.9em}img{max-width:100%}";

    public static string Render(ReportDocument document, string title)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(title))
            .Append("</title><style>").Append(Style).Append("</style></head><body>\n");
        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case HeadingBlock h: html.Append($"<h{h.Level}>{WebUtility.HtmlEncode(h.Text)}</h{h.Level}>\n"); break;
                case ParagraphBlock p: html.Append("<p>").Append(WebUtility.HtmlEncode(p.Text)).Append("</p>\n"); break;
                case PictureBlock p:
                    html.Append("<figure>").Append(Image(p.Picture)).Append("<figcaption>")
                        .Append(WebUtility.HtmlEncode(p.Picture.Caption)).Append("</figcaption></figure>\n");
                    break;
                case TableBlock t:
                    html.Append("<table><tr>");
                    foreach (var h in t.Header) html.Append("<th>").Append(WebUtility.HtmlEncode(h)).Append("</th>");
                    html.Append("</tr>\n");
                    foreach (var row in t.Rows)
                    {
                        html.Append("<tr>");
                        foreach (var c in row)
                            html.Append("<td>").Append(c.Picture is { } pic ? Image(pic) : WebUtility.HtmlEncode(c.Text)).Append("</td>");
                        html.Append("</tr>\n");
                    }
                    html.Append("</table>\n");
                    break;
            }
        }
        return html.Append("</body></html>\n").ToString();
    }

    static string Image(ReportPicture p) =>
        $"<img alt=\"{WebUtility.HtmlEncode(p.Caption)}\" src=\"data:image/png;base64,{Convert.ToBase64String(p.Png)}\">";
}
