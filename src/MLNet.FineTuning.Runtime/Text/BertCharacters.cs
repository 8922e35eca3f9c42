using System.Globalization;
using System.Text;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// The character classes of Hugging Face's BERT <c>BasicTokenizer</c> (transformers, tokenization_bert.py:
/// <c>_is_whitespace</c>, <c>_is_control</c>, <c>_is_punctuation</c>, <c>_is_chinese_char</c>), decided per
/// code point as Python does, so a supplementary-plane character is one unit, never two surrogates.
/// </summary>
internal static class BertCharacters
{
    /// <summary>Becomes one space when cleaning: space, tab, newline, carriage return and category Zs.</summary>
    public static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    /// <summary>
    /// Dropped when cleaning: NUL, U+FFFD and every "C*" category (Cc, Cf, Co, Cn), except tab, newline and
    /// carriage return, which are whitespace. Note that HF drops format characters such as U+200B and the soft
    /// hyphen too, and drops vertical tab and form feed rather than splitting on them.
    /// </summary>
    public static bool IsRemoved(Rune r)
    {
        if (r.Value is 0 or 0xFFFD) return true;
        if (r.Value is '\t' or '\n' or '\r') return false;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.Control or UnicodeCategory.Format
            or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate or UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>
    /// Separates words after cleaning, as Python's <c>str.split()</c> does: the space that cleaning made, and
    /// the line/paragraph separators U+2028/U+2029, which are Zl/Zp (so cleaning keeps them) yet Python
    /// whitespace. Every other Python whitespace character is Cc or Zs and is gone or a space by then.
    /// </summary>
    public static bool IsSeparator(Rune r) => r.Value is ' ' or 0x2028 or 0x2029;

    /// <summary>
    /// Split into a token of its own: every Unicode "P*" character, and all non-alphanumeric printable ASCII
    /// (33–47, 58–64, 91–96, 123–126). The ASCII rule is why <c>$ + &lt; = &gt; ^ ` | ~</c>, which Unicode
    /// calls symbols (S*), are split too; Microsoft.ML.Tokenizers' own pre-tokenizer drops them (BertBasicPreTokenizerTests).
    /// </summary>
    public static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if (cp < 128) return cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation
            or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    /// <summary>
    /// A CJK ideograph, which BERT surrounds with spaces so that each is a word: the CJK Unified Ideographs
    /// blocks and extensions A–E plus the two compatibility blocks. Hangul, Hiragana and Katakana are not
    /// included, exactly as in BERT.
    /// </summary>
    public static bool IsChinese(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
