using System.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Texts that exercise every rule of BERT's basic tokenization, shared by the tokenizer tests.</summary>
internal static class TokenizerTexts
{
    /// <summary>
    /// Short texts from the tokenizer's id tests (accents, symbols, CJK, emoji, control characters, special tokens
    /// written in text, words at and over the 100-character limit, null and empty).
    /// </summary>
    public static IReadOnlyList<string?> Varied { get; } =
    [
        null, "", " \t\n\u200B ", "hello world", "Hello WORLD", "Café naïve", "CAFE\u0301", "İstanbul",
        "a+b=c", "$5", "foo_bar", "x|y~z`", "<a^b>", "“hi”—¿no?", "hello\nworld\tgood\r\nmorning",
        "hel\u200Blo wor\0ld\u00AD", "hello 😀", "中丂文", "𠀀", "a😀b", "ＡＢＣ　full-width", "Ωμέγα ΣΟΦΙΑ",
        "Привет, мир!", "مرحبا بالعالم", "한국어 텍스트", "ひらがな カタカナ", "naïve\u2028line\u2029para",
        new string('a', 99), new string('a', 100), new string('a', 101), "x" + new string('é', 100),
        "hello[SEP] world", "[sep]", "[MASK]d", "[S\0EP]", "[CLS][PAD][UNK][MASK][SEP]", "[[SEP]]", "[SEP",
        "the quick brown fox jumps over the lazy dog", "unaffable antidisestablishmentarianism",
        "e-mail: john.doe@example.com, http://www.example.com/path?q=1&r=2#frag",
        "\u00A0nbsp\u3000ideographic\u2003em space", "soft\u00ADhyphen zero\u200Bwidth\uFEFFbom", "\uD800lone surrogate",
        "Ǆemo ǅ ǆ ﬁ ﬂ ß ẞ", "x²³ ½ ① ⅷ", "©®™ €£¥ ±×÷", "tab\there\u000Bvt\u000Cff",
    ];

    /// <summary>
    /// <paramref name="count"/> pseudo-random texts of <paramref name="minChars"/>–<paramref name="maxChars"/>
    /// characters, mostly English words with punctuation, numbers, accents, some CJK, symbols and special tokens.
    /// </summary>
    public static string[] Long(int count, int minChars, int maxChars, int seed)
    {
        string[] pool =
        [
            "the", "of", "and", "to", "in", "is", "for", "that", "with", "on", "this", "free", "money", "offer", "click",
            "here", "unsubscribe", "meeting", "tomorrow", "please", "find", "attached", "report", "quarterly", "results",
            "Subject:", "Re:", "FW:", "URGENT!!!", "$1,000,000", "100%", "e-mail", "http://example.com/a?b=c", "naïve",
            "café", "résumé", "Zürich", "中文", "日本語", "😀", "[SEP]", "[MASK]", "don't", "it's", "(see", "below)",
            "<html>", "</html>", "&nbsp;", "=20", "--", "...", "#1", "@user", "C++", "x_y", "a|b", "~", "`code`",
            "internationalization", "unbelievably", "Microsoft", "TorchSharp", "ONNX", "tokenizer", "1234567890",
        ];
        var random = new Random(seed);
        var texts = new string[count];
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            text.Clear();
            int length = random.Next(minChars, maxChars + 1);
            while (text.Length < length)
            {
                text.Append(pool[random.Next(pool.Length)]);
                text.Append(random.Next(12) switch { 0 => ", ", 1 => ".\n", 2 => "\t", _ => " " });
            }
            texts[i] = text.ToString(0, length);
        }
        return texts;
    }
}
