using System.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>
/// Fuzzing the tokenizer that training, the saved model and the serving sample share (issue 11): random texts of
/// every kind a stranger may send (any Unicode plane, lone surrogates, control and format characters, combining marks,
/// runs of one character, empty and whitespace-only, invalid UTF-8 read as text, 10 MB) encode to ids of the
/// vocabulary within the length limit, starting with [CLS] and ending with [SEP], and never throw.
/// </summary>
public sealed class TokenizerFuzzTests
{
    internal static string RandomText(Random random)
    {
        int length = random.Next(4) switch { 0 => random.Next(4), 1 => random.Next(40), 2 => random.Next(400), _ => random.Next(4000) };
        var text = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            switch (random.Next(8))
            {
                case 0: text.Append((char)random.Next(0x20, 0x7F)); break;                        // ASCII
                case 1: text.Append((char)random.Next(0, 0x20)); break;                           // control characters
                case 2: text.Append((char)random.Next(0xD800, 0xE000)); break;                    // lone surrogates
                case 3: text.Append(char.ConvertFromUtf32(random.Next(0x1F300, 0x1FAFF))); break; // emoji (pairs)
                case 4: text.Append((char)random.Next(0x300, 0x370)); break;                      // combining marks
                case 5: text.Append((char)random.Next(0x4E00, 0x9FFF)); break;                    // CJK
                case 6: text.Append(new string((char)random.Next(0x20, 0x3000), random.Next(1, 200))); break;   // a run
                default: text.Append((char)random.Next(0, 0x10000)); break;                       // anything in the BMP
            }
        }
        return text.ToString();
    }

    [Fact]
    public void RandomTexts_EncodeToVocabularyIdsWithinTheLimit()
    {
        var tokenizer = BertVocabulary.Uncased;
        var random = new Random(17);
        var texts = Enumerable.Range(0, 2000).Select(_ => RandomText(random)).ToList();
        texts.AddRange(["", " ", "\t\n\r ", "\u200B\u200B", "\uFEFF", new string('a', 100_000)]);
        texts.Add(Encoding.UTF8.GetString([0xC3, 0x28, 0xFF, 0xFE, 0xE2, 0x82, 0x61, 0xF0, 0x9F]));   // invalid UTF-8, as .NET decodes it
        texts.Add(string.Concat(Enumerable.Repeat("word ", 2_000_000)));   // 10 MB

        foreach (var (text, i) in texts.Select((t, i) => (t, i)))
        {
            string pair = i % 3 == 0 ? RandomText(random) : "";
            var encoding = tokenizer.Encode(text, i % 3 == 0 ? pair : null, maxLength: 64);

            string what = $"text {i} ({text.Length} chars)";
            Assert.InRange(encoding.Length, 2, 64);
            Assert.Equal(tokenizer.ClsId, encoding.InputIds[0]);
            Assert.Contains((long)tokenizer.SepId, encoding.InputIds);
            Assert.All(encoding.InputIds, id => Assert.True(id >= 0 && id < tokenizer.VocabularySize, $"{what}: id {id}"));
            Assert.All(encoding.AttentionMask, m => Assert.True(m is 0 or 1, what));
        }
    }
}
