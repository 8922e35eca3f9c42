using System.Text;

namespace MLNet.FineTuning.Runtime.Text;

/// <summary>
/// GPT-2's byte-level alphabet (<c>bytes_to_unicode</c> in openai/gpt-2 encoder.py, Hugging Face's <c>ByteLevel</c>
/// pre-tokenizer): each of the 256 byte values is one printable character, so that a byte-level BPE vocabulary
/// (vocab.json, merges.txt) can name every byte sequence with ordinary strings. Printable Latin-1 bytes
/// (<c>!</c>–<c>~</c>, <c>¡</c>–<c>¬</c>, <c>®</c>–<c>ÿ</c>) stand for themselves; the other 68 (controls, space, 0x7F–0xA0,
/// the soft hyphen) become U+0100 onwards in byte order, so a space is <c>Ġ</c> (U+0120) and a newline <c>Ċ</c> (U+010A).
/// </summary>
/// <remarks>Every character is in the BMP and none is below U+0021: a mapped string is one UTF-16 unit per byte.</remarks>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();

    /// <summary>The character that stands for <paramref name="b"/>.</summary>
    public static char Map(byte b) => ByteToChar[b];

    /// <summary>
    /// The UTF-8 bytes of <paramref name="text"/>, each mapped to its character. A lone surrogate becomes U+FFFD's
    /// three bytes (.NET's UTF-8 encoder replaces it, as it does when a string is handed to a native tokenizer).
    /// </summary>
    public static string Map(ReadOnlySpan<char> text)
    {
        int count = Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = count <= 256 ? stackalloc byte[count] : new byte[count];
        Encoding.UTF8.GetBytes(text, bytes);
        Span<char> chars = count <= 256 ? stackalloc char[count] : new char[count];
        for (int i = 0; i < count; i++) chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] Build()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map[b] = printable ? (char)b : (char)next++;
        }
        return map;
    }
}
