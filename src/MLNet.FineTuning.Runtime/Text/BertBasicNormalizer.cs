using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The text-level steps of Hugging Face's slow <c>BertTokenizer</c>, in its order: lower-case each character
/// (uncased only), drop control characters and turn whitespace into spaces, put spaces around CJK ideographs,
/// then NFC (cased) or NFD with every Mn mark removed (uncased: HF strips accents whenever it lower-cases).
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' own BERT normaliser (2.0.1) is not used because it differs from HF in ways that
/// change ids: it deletes tab, newline and carriage return instead of turning them into spaces (so
/// "hello\nworld" becomes one word), keeps Cf/Co/Cn characters, lower-cases Lu only, removes Mc marks as
/// well as Mn, strips accents only when asked (off by default, so "café" is [UNK] with the uncased vocab) and
/// recomposes the stripped text with NFC (HF leaves it decomposed, so Hangul syllables become jamo).
/// Stateless and thread-safe.
/// </remarks>
internal sealed class BertBasicNormalizer(bool lowerCase) : Normalizer
{
    /// <summary>Whether characters are lower-cased and accents stripped (uncased vocabularies).</summary>
    public bool LowerCase { get; } = lowerCase;

    /// <inheritdoc/>
    public override string Normalize(string original) => Normalize(original.AsSpan());

    /// <inheritdoc/>
    public override string Normalize(ReadOnlySpan<char> original)
    {
        if (original.IsEmpty) return string.Empty;
        // Worst growth: a BMP ideograph gains a space on each side (3 chars for 1); İ lower-cases to 2 chars.
        char[] buffer = ArrayPool<char>.Shared.Rent(original.Length * 3);
        try
        {
            int length = 0;
            bool ascii = true;
            for (int i = 0; i < original.Length;)
            {
                // An unpaired surrogate decodes as invalid; Python sees it as category Cs and drops it too.
                bool valid = Rune.DecodeFromUtf16(original[i..], out Rune r, out int used) == OperationStatus.Done;
                i += used;
                if (!valid || BertCharacters.IsRemoved(r)) continue;
                if (BertCharacters.IsWhitespace(r)) { buffer[length++] = ' '; continue; }
                if (!r.IsAscii) ascii = false;
                if (BertCharacters.IsChinese(r.Value))
                {
                    buffer[length++] = ' ';
                    length += r.EncodeToUtf16(buffer.AsSpan(length));
                    buffer[length++] = ' ';
                    continue;
                }
                if (LowerCase) length += LowerCaseOne(r, buffer.AsSpan(length));
                else length += r.EncodeToUtf16(buffer.AsSpan(length));
            }

            string cleaned = new(buffer, 0, length);
            if (ascii) return cleaned; // NFC and NFD leave ASCII as it is, and it has no Mn marks.
            return LowerCase ? StripAccents(cleaned) : cleaned.Normalize(NormalizationForm.FormC);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Python's <c>str.lower()</c> of one character. HF's slow tokenizer lower-cases the raw text one character
    /// at a time (<c>PreTrainedTokenizer.tokenize</c>), so no final-sigma context applies: Σ is always σ.
    /// Python's full mapping differs from .NET's simple invariant mapping in one unconditional case, U+0130
    /// (İ → "i" + U+0307), which .NET leaves unchanged.
    /// </summary>
    private static int LowerCaseOne(Rune r, Span<char> destination)
    {
        if (r.Value == 0x130)
        {
            destination[0] = 'i';
            destination[1] = '\u0307';
            return 2;
        }
        return Rune.ToLowerInvariant(r).EncodeToUtf16(destination);
    }

    /// <summary>HF's <c>_run_strip_accents</c>: NFD, then drop Mn (only Mn: Mc and Me stay); not recomposed.</summary>
    private static string StripAccents(string text)
    {
        string decomposed = text.Normalize(NormalizationForm.FormD);
        char[] buffer = ArrayPool<char>.Shared.Rent(decomposed.Length);
        try
        {
            int length = 0;
            foreach (Rune r in decomposed.EnumerateRunes())
                if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark)
                    length += r.EncodeToUtf16(buffer.AsSpan(length));
            return length == decomposed.Length ? decomposed : new string(buffer, 0, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
