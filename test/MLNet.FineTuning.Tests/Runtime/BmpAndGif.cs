using System.Buffers.Binary;
using SkiaSharp;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// The committed Fashion-MNIST PNG (<see cref="HostileImages.Png"/>) upscaled to 96 × 96 and written as a 24-bit BMP and
/// as a GIF, by hand: SkiaSharp encodes PNG, JPEG and WebP only. Both are the plain forms of their formats (an
/// uncompressed BMP; a GIF whose LZW stream holds literal codes only, with a clear code before the table would grow), which
/// every decoder reads.
/// </summary>
internal static class BmpAndGif
{
    private const int Side = 96;

    /// <summary>The grey level of each pixel, row by row from the top.</summary>
    private static byte[] Grey()
    {
        using var large = HostileImages.Upscaled(Side);
        var grey = new byte[Side * Side];
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
                grey[y * Side + x] = large.GetPixel(x, y).Red;
        return grey;
    }

    /// <summary>BITMAPFILEHEADER + BITMAPINFOHEADER, 24 bits, bottom-up rows padded to 4 bytes.</summary>
    public static byte[] Bmp
    {
        get
        {
            var grey = Grey();
            int stride = (Side * 3 + 3) / 4 * 4, offset = 54;
            var bmp = new byte[offset + stride * Side];
            "BM"u8.CopyTo(bmp);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), offset);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), Side);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), Side);
            BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
            BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), 24);
            BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), stride * Side);
            for (int y = 0; y < Side; y++)
                for (int x = 0; x < Side; x++)
                    bmp.AsSpan(offset + (Side - 1 - y) * stride + x * 3, 3).Fill(grey[y * Side + x]);
            return bmp;
        }
    }

    /// <summary>GIF89a with a 256-entry grey palette and one image.</summary>
    public static byte[] Gif
    {
        get
        {
            var gif = new MemoryStream();
            gif.Write("GIF89a"u8);
            Span<byte> screen = stackalloc byte[7];
            BinaryPrimitives.WriteUInt16LittleEndian(screen, Side);
            BinaryPrimitives.WriteUInt16LittleEndian(screen[2..], Side);
            screen[4] = 0xF7;   // a global palette of 2^(7+1) entries, 8 bits of colour resolution
            gif.Write(screen);
            for (int i = 0; i < 256; i++) gif.Write([(byte)i, (byte)i, (byte)i]);
            Span<byte> descriptor = stackalloc byte[10];
            descriptor[0] = 0x2C;
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[5..], Side);
            BinaryPrimitives.WriteUInt16LittleEndian(descriptor[7..], Side);
            gif.Write(descriptor);
            gif.WriteByte(8);   // LZW minimum code size: codes start 9 bits wide
            var lzw = LiteralLzw(Grey());
            for (int at = 0; at < lzw.Length; at += 255)
            {
                int n = Math.Min(255, lzw.Length - at);
                gif.WriteByte((byte)n);
                gif.Write(lzw, at, n);
            }
            gif.WriteByte(0);      // end of the image's data
            gif.WriteByte(0x3B);   // trailer
            return gif.ToArray();
        }
    }

    /// <summary>9-bit codes, least significant bit first: clear (256), then the pixels as literals with a clear every 100
    /// (the decoder's table then never reaches 512 entries, so the width stays 9), then end (257).</summary>
    private static byte[] LiteralLzw(byte[] pixels)
    {
        var codes = new List<int> { 256 };
        for (int i = 0; i < pixels.Length; i++)
        {
            if (i > 0 && i % 100 == 0) codes.Add(256);
            codes.Add(pixels[i]);
        }
        codes.Add(257);
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (int code in codes)
        {
            buffer |= code << bits;
            bits += 9;
            for (; bits >= 8; bits -= 8, buffer >>= 8) bytes.Add((byte)buffer);
        }
        if (bits > 0) bytes.Add((byte)buffer);
        return bytes.ToArray();
    }
}
