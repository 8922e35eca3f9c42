using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Known BERT-uncased ids. Each expectation was derived by hand: apply Hugging Face's BertTokenizer steps
/// (lower-case, strip accents, split on whitespace and on every punctuation/ASCII symbol, WordPiece longest match
/// first) and look each piece up in minilm-vocab.txt, where id = line number - 1 (e.g. "hello" is line 7593).
/// The same strings were also checked against Hugging Face's tokenizers library (Rust) with this vocabulary.
/// Specials: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103.
/// </summary>
public class BertTextTokenizerIdsTests
{
    private static long[] Ids(string? text) => BertVocabulary.Uncased.Encode(text, null, 512).InputIds;

    [Fact]
    public void Encode_HelloWorld_MatchesBertIds()
    {
        // hello 7592, world 2088.
        Assert.Equal([101, 7592, 2088, 102], Ids("hello world"));
        Assert.Equal([101, 7592, 2088, 102], Ids("Hello WORLD"));
    }

    [Fact]
    public void Encode_Accents_LowercasedAndStripped()
    {
        // "Café naïve" → "cafe naive" (NFD, Mn removed): cafe 7668, naive 15743. "é" alone is not in the vocabulary,
        // so without stripping "café" would be [UNK] (Microsoft.ML.Tokenizers' default does that).
        Assert.Equal([101, 7668, 15743, 102], Ids("Café naïve"));
        Assert.Equal([101, 7668, 102], Ids("CAFE\u0301")); // decomposed input, same result
    }

    [Fact]
    public void Encode_DottedCapitalI_LowercasesAsPython()
    {
        // Python lower-cases İ (U+0130) to "i" + U+0307; the mark is stripped: istanbul 9960. .NET leaves İ as is.
        Assert.Equal([101, 9960, 102], Ids("İstanbul"));
    }

    [Theory]
    [InlineData("a+b=c", new long[] { 101, 1037, 1009, 1038, 1027, 1039, 102 })] // a 1037, + 1009, b 1038, = 1027, c 1039
    [InlineData("$5", new long[] { 101, 1002, 1019, 102 })]                      // $ 1002, 5 1019
    [InlineData("foo_bar", new long[] { 101, 29379, 1035, 3347, 102 })]          // foo 29379, _ 1035, bar 3347
    [InlineData("x|y~z`", new long[] { 101, 1060, 1064, 1061, 1066, 1062, 1036, 102 })] // x 1060, | 1064, y 1061, ~ 1066, z 1062, ` 1036
    [InlineData("<a^b>", new long[] { 101, 1026, 1037, 1034, 1038, 1028, 102 })] // < 1026, ^ 1034, > 1028
    [InlineData("“hi”—¿no?", new long[] { 101, 1523, 7632, 1524, 1517, 1094, 2053, 1029, 102 })] // “ 1523, hi 7632, ” 1524, — 1517, ¿ 1094, no 2053, ? 1029
    public void Encode_PunctuationAndSymbols_EachOwnToken(string text, long[] expected)
    {
        Assert.Equal(expected, Ids(text));
    }

    [Fact]
    public void Encode_WhitespaceAndControlCharacters_AsBert()
    {
        // Tab, newline and CR separate words; NUL, zero-width space (Cf) and soft hyphen (Cf) are dropped.
        // good 2204, morning 2851.
        Assert.Equal([101, 7592, 2088, 2204, 2851, 102], Ids("hello\nworld\tgood\r\nmorning"));
        Assert.Equal([101, 7592, 2088, 102], Ids("hel\u200Blo wor\0ld\u00AD"));
    }

    [Fact]
    public void Encode_UnknownCharacters_Unk()
    {
        // No emoji is in the vocabulary; CJK ideographs are split one per word: 中 1746, 文 1861, 丂 absent.
        Assert.Equal([101, 7592, 100, 102], Ids("hello 😀"));
        Assert.Equal([101, 1746, 100, 1861, 102], Ids("中丂文"));
        Assert.Equal([101, 100, 102], Ids("𠀀")); // CJK Extension B, one code point of two UTF-16 units
    }

    [Fact]
    public void Encode_WordOver100Characters_Unk()
    {
        // 101 characters → [UNK]. 100 characters is WordPiece'd: aaa 13360 (no longer "a…" run is in the
        // vocabulary), then ##aa 11057 ×48 (no "##aaa"), then ##a 2050: 3 + 96 + 1 = 100 characters.
        Assert.Equal([101, 100, 102], Ids(new string('a', 101)));
        long[] expected = [101, 13360, .. Enumerable.Repeat(11057L, 48), 2050, 102];
        Assert.Equal(expected, Ids(new string('a', 100)));
    }

    [Fact]
    public void Encode_SpecialTokenInText_KeptAsSpecialCaseSensitive()
    {
        // HF matches special tokens in the raw text (split_special_tokens=False): "[SEP]" is 102 even inside a
        // word; "[sep]" is ordinary text: [ 1031, sep 19802, ] 1033.
        Assert.Equal([101, 7592, 102, 2088, 102], Ids("hello[SEP] world"));
        Assert.Equal([101, 1031, 19802, 1033, 102], Ids("[sep]"));
        Assert.Equal([101, 103, 1040, 102], Ids("[MASK]d")); // d 1040
    }

    [Fact]
    public void Encode_SpecialTokenJoinedByCleaning_WholeOnlyWhenCased()
    {
        // HF's BasicTokenizer never splits a word equal to a special token (never_split). Cased, dropping the NUL
        // makes "[SEP]", kept whole → 102. Uncased, the text was lower-cased first, so "[sep]" is split.
        var cased = BertTextTokenizer.Create(BertVocabulary.Path, lowerCase: false);

        Assert.Equal([101, 102, 102], cased.Encode("[S\0EP]", null, 8).InputIds);
        Assert.Equal([101, 1031, 19802, 1033, 102], Ids("[S\0EP]"));
    }

    [Fact]
    public void Encode_NullAndEmpty_ClsSep()
    {
        Assert.Equal([101, 102], Ids(null));
        Assert.Equal([101, 102], Ids(""));
        Assert.Equal([101, 102], Ids(" \t\n\u200B "));
    }

    [Fact]
    public void Encode_CasedVocabulary_KeepsCaseAndAccents()
    {
        // A small cased vocabulary, given as a stream; ids are line indexes below.
        string[] lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe", "Hello", "hello", "##s", "!"];
        var cased = BertTextTokenizer.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines))), lowerCase: false);
        var uncased = BertTextTokenizer.Create(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(string.Join("\n", lines))), lowerCase: true);

        Assert.Equal([2, 5, 8, 10, 11, 3], cased.Encode("Café Hellos!", null, 16).InputIds);
        // Cased text is NFC-composed first (as HF's BasicTokenizer does), so a decomposed é still finds "Café".
        Assert.Equal([2, 5, 3], cased.Encode("Cafe\u0301", null, 16).InputIds);
        Assert.Equal([2, 1, 3], cased.Encode("hellO", null, 16).InputIds);
        Assert.Equal([2, 7, 9, 10, 11, 3], uncased.Encode("Café Hellos!", null, 16).InputIds);
    }
}
