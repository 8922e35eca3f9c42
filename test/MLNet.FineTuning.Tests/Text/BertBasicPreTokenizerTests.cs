using System.Text;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Properties of the punctuation split: HF's BasicTokenizer makes every punctuation character (Unicode P* and
/// non-alphanumeric printable ASCII) a token of its own, so no id may stand for punctuation merged with anything.
/// </summary>
public class BertBasicPreTokenizerTests
{
    private static BertTextTokenizer Tokenizer => BertVocabulary.Uncased;

    private static IEnumerable<char> AsciiSymbols => Enumerable.Range(33, 94).Select(c => (char)c).Where(c => !char.IsAsciiLetterOrDigit(c));

    [Fact]
    public void Encode_EachAsciiSymbol_ItsOwnVocabularyId()
    {
        foreach (char symbol in AsciiSymbols)
        {
            long id = Tokenizer.Vocabulary[symbol.ToString()];
            Assert.Equal([101, id, 102], Tokenizer.Encode(symbol.ToString(), null, 8).InputIds);
            // Between letters too (x 1060, y 1061): the symbol never joins a word.
            Assert.Equal([101, 1060, id, 1061, 102], Tokenizer.Encode($"x{symbol}y", null, 8).InputIds);
        }
    }

    [Fact]
    public void Encode_AllAsciiSymbolsInARow_OneIdEach()
    {
        // "[SEP]" cannot occur: the run has no letters. 32 symbols → 32 ids.
        string run = string.Concat(AsciiSymbols);
        long[] expected = [101, .. run.Select(c => (long)Tokenizer.Vocabulary[c.ToString()]), 102];

        Assert.Equal(expected, Tokenizer.Encode(run, null, 64).InputIds);
    }

    [Fact]
    public void Encode_EveryPunctuationEntryOfVocabulary_SplitsWords()
    {
        // Every single-character punctuation token that the vocabulary has (Unicode P* included: “ — ¿ 。 ‿ ！).
        var punctuation = Tokenizer.Vocabulary
            .Where(e => e.Key.EnumerateRunes().Count() == 1 && BertCharacters.IsPunctuation(e.Key.EnumerateRunes().First()))
            .ToList();
        Assert.Equal(92, punctuation.Count); // 32 ASCII + 60 others, counted with Python's unicodedata

        foreach (var (token, id) in punctuation)
            Assert.Equal([101, 1060, id, 1061, 102], Tokenizer.Encode($"x{token}y", null, 8).InputIds);
    }

    [Fact]
    public void Encode_VariedText_NoIdMixesPunctuationWithOtherCharacters()
    {
        string pool = "abcxyzABCXYZ019 \t\n!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~éüßİ中文—“”¿¡…·«»€©°±×";
        var byId = Tokenizer.Vocabulary.ToDictionary(e => (long)e.Value, e => e.Key);
        var random = new Random(20241126);
        for (int n = 0; n < 300; n++)
        {
            var text = new StringBuilder();
            for (int k = random.Next(1, 30); k > 0; k--) text.Append(pool[random.Next(pool.Length)]);

            foreach (long id in Tokenizer.Encode(text.ToString(), null, 128).InputIds)
            {
                string token = byId[id];
                if (token.StartsWith("##", StringComparison.Ordinal)) token = token[2..];
                var runes = token.EnumerateRunes().ToList();
                if (runes.Count > 1 && id is not (100 or 101 or 102))
                    Assert.DoesNotContain(runes, BertCharacters.IsPunctuation);
            }
        }
    }
}
