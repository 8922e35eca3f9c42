using System.Buffers;
using System.Text.Unicode;

namespace MLNet.FineTuning.Cli.Inputs;

/// <summary>
/// Reads a text file as UTF-8, or as UTF-16/32 where a byte-order mark says so. A byte that is not UTF-8 is an error,
/// not a replacement character: a table saved in a legacy code page (Excel's plain "CSV" on Windows writes
/// Windows-1252) would otherwise train on texts whose accented letters all became U+FFFD.
/// </summary>
internal static class Utf8Text
{
    /// <exception cref="InvalidDataException">The file has bytes that are not UTF-8; the message names the first one's
    /// line and value and how to save the file instead.</exception>
    public static string Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        bool utf16Or32 = bytes.Length >= 2 && (bytes[0], bytes[1]) is (0xFF, 0xFE) or (0xFE, 0xFF);
        if (utf16Or32 || (bytes.Length >= 4 && bytes[0] == 0 && bytes[1] == 0 && bytes[2] == 0xFE && bytes[3] == 0xFF))
        {
            using var reader = new StreamReader(new MemoryStream(bytes), detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }

        var source = bytes.AsSpan(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0);
        var chars = new char[source.Length];   // UTF-8 never needs more UTF-16 units than bytes
        if (Utf8.ToUtf16(source, chars, out int read, out int written, replaceInvalidSequences: false) == OperationStatus.Done)
            return new string(chars, 0, written);
        int line = source[..read].Count((byte)'\n') + 1;
        throw new InvalidDataException(
            $"line {line}: byte 0x{source[read]:X2} is not UTF-8 (the file looks saved in another encoding, such as Windows-1252 or Latin-1). " +
            "Save it as UTF-8 (Excel: \"CSV UTF-8\"; iconv -f WINDOWS-1252 -t UTF-8) and run again.");
    }
}
