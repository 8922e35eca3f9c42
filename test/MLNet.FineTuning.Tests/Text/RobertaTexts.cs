using System.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Texts that exercise every rule of RoBERTa's tokenization (GPT-2's pattern, byte alphabet, special tokens).</summary>
internal static class RobertaTexts
{
    /// <summary>Hand-picked cases, each aimed at one rule; with the BERT tests' <see cref="TokenizerTexts.Varied"/>.</summary>
    public static IReadOnlyList<string?> Varied { get; } =
    [
        .. TokenizerTexts.Varied,
        // contractions: only lower-case, only after an ASCII apostrophe, and only at a match start
        "it's", "IT'S", "don't", "we're", "I've", "I'm", "you'll", "he'd", "'s", "''s", "' s", "rock'n'roll", "can’t", "'re'", "x'dx",
        // whitespace: runs before words keep their last space with the word; other whitespace stands alone
        "a  b", "a   b", "a\tb", "a\t\tb", "a \tb", "a\t b", "a\nb", "a\r\nb", "  lead", "trail  ", " ", "   ", "\t", "\n\n", " \n ",
        "a\u00A0b", "a\u3000b", "a\u2028b", "a\u0085b", "a\u000Bb\u000Cc", "a\u001Cb\u001Dc\u001Ed\u001Ff", "a\u180Eb", "a\u200Bb",
        // numbers, letters, symbols and their leading space
        "abc123def", " 123", "1,000,000.50", "x² ½ ①", "٣٤٥ ४५", "...", " ...", "!!!???", "a--b", "==>", "$100", "C++ & C#",
        // accents, combining marks, scripts
        "café", "cafe\u0301", "naïve résumé", "Ωμέγα", "Привет мир", "مرحبا", "שלום", "हिन्दी", "ไทย", "한국어", "日本語のテキスト", "中文字符",
        // supplementary plane: letters (.NET's regex would see two surrogates), emoji, joiners, flags
        "𝐀𝐁𝐂 bold", " 𝐀", "𠀀𠀁 ext-b", "a😀b", "😀😀😀", " 😀", "👨‍👩‍👧", "🇫🇷🇯🇵", "🏳️‍🌈", "\U0001F9D1\U0001F3FD",
        // control characters and other odd code points
        "a\0b", "\u0001\u0002", "x\u007Fy", "soft\u00ADhyphen", "\uFEFFbom", "\uFFFD", "\uE000private", "\U000E0041tag",
        // special tokens written in text
        "<s>", "</s>", "<pad>", "<unk>", "<mask>", "Hello <mask>", "Hello <mask>!", "Hello<mask>", "Hello  \t <mask> world",
        "<mask> first", " <mask>", "<s><mask></s>", "<s> <mask>", "a <s> b", "mid<s>text", "<<mask>>", "<s", "mask>", "<MASK>",
        "<mask><mask>", "<mask> <mask>", "x\n<mask>", "\u3000<mask>", "<pad></s><unk>", "</s </s>", "<s>\n",
        // long words and runs (GPT-2 has tokens of up to 128 bytes)
        new string('a', 300), string.Concat(Enumerable.Repeat("ÃÂ", 80)), new string('=', 200), new string('-', 130),
        new string('.', 70), " " + new string('_', 65), string.Concat(Enumerable.Repeat("😀", 50)), new string('9', 100),
        "pneumonoultramicroscopicsilicovolcanoconiosis", "Supercalifragilisticexpialidocious", "antidisestablishmentarianism",
    ];

    /// <summary>
    /// <paramref name="count"/> pseudo-random texts of up to a few hundred characters, built from pieces of every kind
    /// (words, contractions, numbers, punctuation runs, whitespace of all sorts, accents, scripts, emoji and other
    /// supplementary-plane characters, control characters, special tokens, long runs).
    /// </summary>
    public static string[] Random(int count, int seed)
    {
        string[] pieces =
        [
            "the", "The", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "Hello", "WORLD", "tokenizer", "internationalization",
            "'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "n't", "’s", "'", "\"",
            "0", "42", "3.14", "1,000", "2024-01-01", "٣", "²", "Ⅻ",
            ".", ",", "!", "?", "...", "--", "—", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "_", "=", "+", "~", "`", "|",
            " ", " ", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\u00A0", "\u3000", "\u2009", "\u2028", "\u0085", "\u000B", "\u001F",
            "é", "e\u0301", "ñ", "ü", "ß", "Å", "ø", "ç", "İ", "ı", "Ω", "ж", "ש", "ع", "क", "ि", "ก", "한", "あ", "カ", "中", "文", "字",
            "😀", "👍", "🎉", "❤️", "👨‍👩‍👧", "🇫🇷", "𝐀", "𝔘", "𠀀", "𓀀", "🀄",
            "\0", "\u0001", "\u007F", "\u00AD", "\u200B", "\u200D", "\uFEFF", "\uE000", "\uFFFD",
            "<s>", "</s>", "<pad>", "<unk>", "<mask>", " <mask>", "<mask> ", "<", "s>", "mask",
        ];
        var random = new Random(seed);
        var texts = new string[count];
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Clear();
            int parts = random.Next(4) switch { 0 => random.Next(3), 1 => random.Next(10), _ => random.Next(60) };
            for (int p = 0; p < parts; p++)
            {
                if (random.Next(40) == 0) // a long run of one code point (never a lone surrogate: HF cannot be given one)
                    text.Insert(text.Length, pieces[random.Next(pieces.Length)].EnumerateRunes().First().ToString(), random.Next(20, 160));
                else text.Append(pieces[random.Next(pieces.Length)]);
                if (random.Next(3) == 0) text.Append(' ');
            }
            texts[i] = text.ToString();
        }
        return texts;
    }
}
