namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// RoBERTa's text → the units that byte-level BPE then splits into tokens, as Hugging Face's fast tokenizer makes them:
/// special tokens written in the text (<see cref="RobertaSpecialTokens"/>) come out whole; each stretch of text between
/// them gets a leading space when <see cref="AddPrefixSpace"/> and it has none, is cut into GPT-2 pre-tokens
/// (<see cref="Gpt2PreTokenizer"/>), and each pre-token becomes its UTF-8 bytes in GPT-2's alphabet
/// (<see cref="ByteLevelAlphabet"/>), the strings that vocab.json and merges.txt are written in.
/// </summary>
/// <remarks>
/// The one copy of this step: <see cref="RobertaTextTokenizer"/> runs BPE on these words, and the saved model's
/// tokenization steps (<see cref="ByteLevelBpeCandidates"/>) derive their candidates from them. Stateless and thread-safe.
/// </remarks>
internal sealed class ByteLevelWordSplitter
{
    private ByteLevelWordSplitter(bool addPrefixSpace) => AddPrefixSpace = addPrefixSpace;

    /// <summary>roberta-base's setting: text is taken as it is.</summary>
    public static ByteLevelWordSplitter NoPrefixSpace { get; } = new(addPrefixSpace: false);

    /// <summary>HF's <c>add_prefix_space=True</c>: a space before every stretch of text that does not start with one.</summary>
    public static ByteLevelWordSplitter PrefixSpace { get; } = new(addPrefixSpace: true);

    /// <summary><see cref="PrefixSpace"/> or <see cref="NoPrefixSpace"/>.</summary>
    public static ByteLevelWordSplitter For(bool addPrefixSpace) => addPrefixSpace ? PrefixSpace : NoPrefixSpace;

    /// <summary>HF's <c>add_prefix_space</c>.</summary>
    public bool AddPrefixSpace { get; }

    /// <summary>
    /// Appends the first <paramref name="maxWords"/> words of <paramref name="text"/> (all of them if fewer); returns how
    /// many. Every word gives BPE at least one token, so <c>n</c> words are enough for the first <c>n</c> tokens.
    /// </summary>
    public int AppendWords(ReadOnlySpan<char> text, int maxWords, List<ByteLevelWord> words)
    {
        int start = words.Count;
        for (int position = 0; position < text.Length && words.Count - start < maxWords;)
        {
            var (specialStart, specialEnd, special) = RobertaSpecialTokens.Find(text, position);
            int stretchEnd = special < 0 ? text.Length : specialStart;
            if (stretchEnd > position) AppendStretch(text[position..stretchEnd], maxWords - (words.Count - start), words);
            if (special < 0 || words.Count - start >= maxWords) break;
            words.Add(new ByteLevelWord(RobertaSpecialTokens.All[special], special));
            position = specialEnd;
        }
        return words.Count - start;
    }

    /// <summary>The pre-tokens of text without special tokens, at most <paramref name="maxWords"/>.</summary>
    private void AppendStretch(ReadOnlySpan<char> stretch, int maxWords, List<ByteLevelWord> words)
    {
        if (AddPrefixSpace && stretch[0] != ' ') stretch = string.Concat(" ", stretch).AsSpan();
        for (int i = 0, added = 0; i < stretch.Length && added < maxWords; added++)
        {
            int end = Gpt2PreTokenizer.NextEnd(stretch, i);
            words.Add(new ByteLevelWord(ByteLevelAlphabet.Map(stretch[i..end]), ByteLevelWord.NotSpecial));
            i = end;
        }
    }
}

/// <summary>One unit for BPE: a pre-token in GPT-2's byte alphabet, or a special token written in the text.</summary>
/// <param name="Text">The pre-token's mapped bytes (one char per byte), or the special token itself.</param>
/// <param name="Special">Index in <see cref="RobertaSpecialTokens.All"/>, or <see cref="NotSpecial"/>.</param>
internal readonly record struct ByteLevelWord(string Text, int Special)
{
    public const int NotSpecial = -1;

    public bool IsSpecial => Special != NotSpecial;
}
