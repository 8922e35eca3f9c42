using System.Buffers.Binary;
using System.Text.RegularExpressions;

namespace MLNet.FineTuning.Tests.Cli;

/// <summary>What a run's report must hold, checked the same way for image and text runs.</summary>
internal static partial class ReportChecks
{
    static readonly byte[] PngSignature = [137, 80, 78, 71, 13, 10, 26, 10];

    /// <summary>report.md links only pictures that exist and are PNG files of a real size; report.html inlines every
    /// picture (no file beside it is needed) and carries the same sections; both name the classes.</summary>
    public static void AssertReport(string output, IEnumerable<string> classes, int expectedExamples)
    {
        string md = File.ReadAllText(Path.Combine(output, "report.md")), html = File.ReadAllText(Path.Combine(output, "report.html"));
        var linked = MarkdownImage().Matches(md).Select(m => m.Groups[1].Value).ToList();
        foreach (var chart in new[] { "loss.png", "accuracy.png", "learning-rate.png", "confusion.png", "per-class-f1.png", "class-counts.png" })
            Assert.Contains($"report/{chart}", linked);
        Assert.Equal(expectedExamples, linked.Count(l => l.StartsWith("report/example-", StringComparison.Ordinal)));
        foreach (var link in linked)
        {
            var bytes = File.ReadAllBytes(Path.Combine(output, link));
            Assert.True(bytes.AsSpan(0, 8).SequenceEqual(PngSignature), $"{link} is not a PNG file");
            int width = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), height = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20));
            Assert.True(width >= 32 && height >= 32, $"{link} is {width}×{height}");
        }
        Assert.Equal(linked.Count, InlinedPng().Matches(html).Count);
        Assert.DoesNotMatch(ExternalSource(), html);
        foreach (var section in new[] { "Result", "Data", "Training", "Per class", "Confusion matrix", "Worst-classified examples", "Options" })
        {
            Assert.Contains($"## {section}", md);
            Assert.Contains($"<h2>{section}</h2>", html);
        }
        foreach (var c in classes)
        {
            Assert.Contains(c.Replace("_", "\\_", StringComparison.Ordinal), md);   // Markdown escapes its emphasis marks
            Assert.Contains(c, html);
        }
    }

    [GeneratedRegex(@"!\[[^\]]*\]\(([^)]+)\)")] private static partial Regex MarkdownImage();
    [GeneratedRegex("src=\"data:image/png;base64,[A-Za-z0-9+/=]+\"")] private static partial Regex InlinedPng();
    [GeneratedRegex("src=\"(?!data:)")] private static partial Regex ExternalSource();
}
