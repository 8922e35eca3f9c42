using System.Text;
using Microsoft.ML.Tokenizers;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The word-level step of Hugging Face's BERT <c>BasicTokenizer</c> on text that
/// <see cref="BertBasicNormalizer"/> has cleaned: split on whitespace, then make every punctuation character
/// (<see cref="BertCharacters.IsPunctuation"/>) a word of its own. A whitespace-delimited word equal to a special
/// token (HF's <c>never_split</c>) is kept whole; special tokens written plainly are taken out before normalising
/// (<see cref="BertWordSplitter"/>), so this only matters where cleaning joined one, as in cased "[S\0EP]".
/// </summary>
/// <remarks>
/// Replaces Microsoft.ML.Tokenizers' BERT pre-tokenizer (the regex <c>\w+|[\p{P}]</c>), which no option
/// changes and which differs from HF: it drops Unicode symbols such as <c>$ + = | ~</c> and the backtick
/// (they match neither branch) and keeps <c>_</c> inside words (<c>\w</c> includes it). Stateless and thread-safe.
/// </remarks>
internal sealed class BertBasicPreTokenizer(IReadOnlyList<string> neverSplit) : PreTokenizer
{
    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Split(text);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Split(text.ToString());

    private IEnumerable<(int Offset, int Length)> Split(string text)
    {
        int i = 0;
        while (i < text.Length)
        {
            var (r, width) = RuneAt(text, i);
            if (BertCharacters.IsSeparator(r)) { i += width; continue; }
            if (r.Value == '[' && NeverSplitLength(text, i) is > 0 and var whole)
            {
                yield return (i, whole);
                i += whole;
                continue;
            }

            int wordStart = i;
            while (i < text.Length)
            {
                var (c, w) = RuneAt(text, i);
                if (BertCharacters.IsSeparator(c)) break;
                if (BertCharacters.IsPunctuation(c))
                {
                    if (i > wordStart) yield return (wordStart, i - wordStart);
                    yield return (i, w);
                    wordStart = i + w;
                }
                i += w;
            }
            if (i > wordStart) yield return (wordStart, i - wordStart);
        }
    }

    /// <summary>The length of the never-split token that is the whole word at <paramref name="start"/>, or 0.</summary>
    private int NeverSplitLength(string text, int start)
    {
        foreach (string token in neverSplit)
        {
            int end = start + token.Length;
            if (text.AsSpan(start).StartsWith(token, StringComparison.Ordinal)
                && (end == text.Length || BertCharacters.IsSeparator(RuneAt(text, end).Rune)))
                return token.Length;
        }
        return 0;
    }

    /// <summary>The code point at <paramref name="index"/>; a lone surrogate (never left by the normaliser) counts as one char.</summary>
    private static (Rune Rune, int Width) RuneAt(string text, int index) =>
        Rune.TryGetRuneAt(text, index, out Rune r) ? (r, r.Utf16SequenceLength) : (Rune.ReplacementChar, 1);
}
