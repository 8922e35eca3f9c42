namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// BERT's special tokens, and how Hugging Face's slow <c>BertTokenizer</c> finds them: written in the raw text,
/// case-sensitive, before any normalising (<c>split_special_tokens=False</c>), even inside a word.
/// </summary>
internal static class BertSpecialTokens
{
    public const string Cls = "[CLS]";
    public const string Sep = "[SEP]";
    public const string Pad = "[PAD]";
    public const string Unk = "[UNK]";
    public const string Mask = "[MASK]";

    /// <summary>The five tokens every BERT vocabulary must have; also the pre-tokenizer's <c>never_split</c> list.</summary>
    public static IReadOnlyList<string> All { get; } = [Cls, Sep, Pad, Unk, Mask];

    /// <summary>Index of the first special token written in <paramref name="text"/>, or -1; <paramref name="special"/> is its index in <see cref="All"/>.</summary>
    public static int Find(ReadOnlySpan<char> text, out int special)
    {
        for (int from = 0; from < text.Length;)
        {
            int bracket = text[from..].IndexOf('[');
            if (bracket < 0) break;
            bracket += from;
            for (special = 0; special < All.Count; special++)
                if (text[bracket..].StartsWith(All[special], StringComparison.Ordinal)) return bracket;
            from = bracket + 1;
        }
        special = -1;
        return -1;
    }
}
