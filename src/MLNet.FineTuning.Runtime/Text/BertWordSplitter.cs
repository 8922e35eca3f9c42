namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// BERT's basic tokenization as a list of words: the exact units that WordPiece then splits into pieces. Special
/// tokens written in the text (<see cref="BertSpecialTokens"/>) come out whole; the text between them is cleaned
/// (<see cref="BertBasicNormalizer"/>) and split (<see cref="BertBasicPreTokenizer"/>). The one copy of this step:
/// the training tokenizer (MLNet.FineTuning's <c>BertTextTokenizer</c>) feeds these words to WordPiece, and the
/// saved model's tokenization steps (<see cref="WordPieceCandidates"/>) derive their pieces from them.
/// </summary>
/// <remarks>Stateless and thread-safe.</remarks>
internal sealed class BertWordSplitter
{
    // A long text is split in chunks cut at whitespace, so that the first 128 tokens of a 500 KB e-mail do not
    // cost normalising all of it. The chunk is sized from the words still needed; English BERT text averages
    // 4–6 characters per word, so one chunk nearly always suffices. Results do not depend on these numbers.
    private const int CharsPerWordGuess = 8;
    private const int MinChunkChars = 1024;

    private readonly BertBasicNormalizer _normalizer;
    private readonly BertBasicPreTokenizer _preTokenizer;

    private BertWordSplitter(bool lowerCase)
    {
        _normalizer = new BertBasicNormalizer(lowerCase);
        _preTokenizer = new BertBasicPreTokenizer(BertSpecialTokens.All);
    }

    /// <summary>For uncased vocabularies: lower-cases and strips accents (HF's <c>do_lower_case=True</c>).</summary>
    public static BertWordSplitter Uncased { get; } = new(lowerCase: true);

    /// <summary>For cased vocabularies: keeps case, NFC-composes.</summary>
    public static BertWordSplitter Cased { get; } = new(lowerCase: false);

    /// <summary><see cref="Uncased"/> or <see cref="Cased"/>.</summary>
    public static BertWordSplitter For(bool lowerCase) => lowerCase ? Uncased : Cased;

    /// <summary>Whether text is lower-cased and accents stripped.</summary>
    public bool LowerCase => _normalizer.LowerCase;

    /// <summary>
    /// Appends the first <paramref name="maxWords"/> words of <paramref name="text"/> (all of them if fewer) to
    /// <paramref name="words"/>; returns how many it appended. Each word is non-empty. Every word gives WordPiece
    /// at least one token, so <c>n</c> words are enough for the first <c>n</c> tokens.
    /// </summary>
    public int AppendWords(ReadOnlySpan<char> text, int maxWords, List<ReadOnlyMemory<char>> words)
    {
        int start = words.Count;
        for (int position = 0; position < text.Length && words.Count - start < maxWords;)
        {
            int end = ChunkEnd(text, position, maxWords - (words.Count - start));
            AppendChunk(text[position..end], start, maxWords, words);
            position = end;
        }
        return words.Count - start;
    }

    /// <summary>
    /// Where to cut the next chunk: before an ASCII whitespace character, which ends any word or special token
    /// and composes with nothing under NFC/NFD, so chunks split exactly as the whole text would.
    /// </summary>
    private static int ChunkEnd(ReadOnlySpan<char> text, int start, int wordsNeeded)
    {
        long wanted = Math.Max((long)wordsNeeded * CharsPerWordGuess, MinChunkChars);
        if (start + wanted >= text.Length) return text.Length;
        int cut = (int)(start + wanted);
        int whitespace = text[cut..].IndexOfAny(" \t\n\r");
        return whitespace < 0 ? text.Length : cut + whitespace;
    }

    /// <summary>Appends a chunk's words, stopping at <paramref name="maxWords"/> since <paramref name="start"/>.</summary>
    private void AppendChunk(ReadOnlySpan<char> chunk, int start, int maxWords, List<ReadOnlyMemory<char>> words)
    {
        while (!chunk.IsEmpty)
        {
            int at = BertSpecialTokens.Find(chunk, out int special);
            var plain = at < 0 ? chunk : chunk[..at];
            if (!plain.IsEmpty)
            {
                string normalized = _normalizer.Normalize(plain);
                foreach (var (offset, length) in _preTokenizer.PreTokenize(normalized))
                {
                    if (words.Count - start >= maxWords) return;
                    words.Add(normalized.AsMemory(offset, length));
                }
            }
            if (at < 0 || words.Count - start >= maxWords) return;
            string token = BertSpecialTokens.All[special];
            words.Add(token.AsMemory());
            chunk = chunk[(at + token.Length)..];
        }
    }
}
