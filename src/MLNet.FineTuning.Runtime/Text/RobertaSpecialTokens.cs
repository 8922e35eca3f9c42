namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// RoBERTa's special tokens, and how Hugging Face's fast tokenizer finds them in text (its added tokens, matched in
/// the raw text before pre-tokenization, case-sensitive, leftmost-longest, even inside a word). <c>&lt;mask&gt;</c> has
/// <c>lstrip=true</c> (roberta-base's tokenizer.json, <c>RobertaTokenizerFast</c>): the match takes in all the
/// whitespace before it, so <c>"Hello &lt;mask&gt;"</c> is <c>Hello</c>, <c>&lt;mask&gt;</c> with no <c>Ġ</c> token between.
/// </summary>
internal static class RobertaSpecialTokens
{
    public const string Cls = "<s>";
    public const string Pad = "<pad>";
    public const string Sep = "</s>";
    public const string Unk = "<unk>";
    public const string Mask = "<mask>";

    /// <summary>The five tokens every RoBERTa vocabulary must have, in the order of their ids in roberta-base (mask last).</summary>
    public static IReadOnlyList<string> All { get; } = [Cls, Pad, Sep, Unk, Mask];

    /// <summary>Index of <see cref="Mask"/> in <see cref="All"/>: the one token with lstrip.</summary>
    public const int MaskIndex = 4;

    /// <summary>
    /// The next special token in <paramref name="text"/> at or after <paramref name="from"/>: where its match starts
    /// (before the whitespace that lstrip takes in, never before <paramref name="from"/>), where it ends, and its index
    /// in <see cref="All"/>; or <c>Start = -1</c>. No token is a prefix of another and each has '&lt;' only at its start,
    /// so the first one found at the leftmost '&lt;' is HF's leftmost-longest match.
    /// </summary>
    public static (int Start, int End, int Special) Find(ReadOnlySpan<char> text, int from)
    {
        for (int at = from; at < text.Length;)
        {
            int bracket = text[at..].IndexOf('<');
            if (bracket < 0) break;
            bracket += at;
            for (int special = 0; special < All.Count; special++)
            {
                if (!text[bracket..].StartsWith(All[special], StringComparison.Ordinal)) continue;
                int start = bracket;
                // HF: start = max(start of the whitespace run before the match, end of the previous match).
                if (special == MaskIndex)
                    while (start > from && IsWhitespace(text, start - 1)) start--;
                return (start, bracket + All[special].Length, special);
            }
            at = bracket + 1;
        }
        return (-1, -1, -1);
    }

    /// <summary>Rust's <c>\s</c> (Unicode White_Space), which is .NET's <see cref="char.IsWhiteSpace(char)"/>; all such characters are in the BMP.</summary>
    private static bool IsWhitespace(ReadOnlySpan<char> text, int index) => char.IsWhiteSpace(text[index]);
}
