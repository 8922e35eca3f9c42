using System.Globalization;
using System.Text;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// GPT-2's pre-tokenization, which RoBERTa's byte-level BPE uses (Hugging Face's <c>ByteLevel</c> pre-tokenizer with
/// <c>use_regex</c>): the pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>,
/// applied left to right, each match a pre-token.
/// </summary>
/// <remarks>
/// Written out by hand instead of as a .NET <see cref="System.Text.RegularExpressions.Regex"/> because .NET matches
/// <c>\p{L}</c> per UTF-16 unit: a supplementary-plane letter (𝐀, 𠀀) is two surrogates of category Cs, so .NET would put
/// it in the <c>[^\s\p{L}\p{N}]</c> branch, while HF's Oniguruma sees one letter. Here classes are decided per code point
/// (a lone surrogate counts as U+FFFD, which is what reaches HF once the text is UTF-8). <c>\s</c> is Unicode
/// White_Space, which is what <see cref="Rune.IsWhiteSpace"/> tests. Stateless and thread-safe.
/// </remarks>
internal static class Gpt2PreTokenizer
{
    private enum Kind { Letter, Number, Space, Other }

    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    /// <summary>The end of the pre-token that starts at <paramref name="start"/> (&lt; <c>text.Length</c>).</summary>
    public static int NextEnd(ReadOnlySpan<char> text, int start)
    {
        if (text[start] == '\'')
        {
            foreach (string contraction in Contractions)
                if (text[(start + 1)..].StartsWith(contraction, StringComparison.Ordinal)) return start + 1 + contraction.Length;
        }

        var (kind, width) = At(text, start);
        if (kind != Kind.Space) return RunEnd(text, start + width, kind);
        if (text[start] == ' ' && start + 1 < text.Length && At(text, start + 1) is { Kind: not Kind.Space } next)
            return RunEnd(text, start + 1 + next.Width, next.Kind); // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+"

        // \s+(?!\S) takes the whitespace run up to the end, or all of it but its last character (which may then start
        // " word"); a single whitespace character before a non-space falls through to \s+. White_Space is all BMP.
        int end = RunEnd(text, start + 1, Kind.Space);
        return end == text.Length || end - start == 1 ? end : end - 1;
    }

    /// <summary>Where the run of <paramref name="kind"/> characters that continues at <paramref name="from"/> ends.</summary>
    private static int RunEnd(ReadOnlySpan<char> text, int from, Kind kind)
    {
        int i = from;
        while (i < text.Length && At(text, i) is var (k, width) && k == kind) i += width;
        return i;
    }

    private static (Kind Kind, int Width) At(ReadOnlySpan<char> text, int index)
    {
        if (Rune.DecodeFromUtf16(text[index..], out Rune r, out int width) != System.Buffers.OperationStatus.Done)
            return (Kind.Other, 1); // a lone surrogate: U+FFFD, a symbol (So)
        if (Rune.IsWhiteSpace(r)) return (Kind.Space, width);
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => (Kind.Letter, width),
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => (Kind.Number, width),
            _ => (Kind.Other, width),
        };
    }
}
