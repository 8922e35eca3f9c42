using System.Buffers.Binary;

namespace MLNet.FineTuning.Runtime.Images;

/// <summary>
/// Whether an encoded image holds all the data its own structure announces, read from the bytes without decoding.
/// SkiaSharp's decoders accept a cut-off file and fill what is missing, so <see cref="EncodedImage"/> asks these first.
/// (JPEG has no such structure to walk: <see cref="EncodedImage"/> decodes it at an eighth of its size instead.)
/// </summary>
internal static class ImageFileEnds
{
    /// <summary>Walks the PNG's chunks (length, type, data, CRC) from the signature: a whole file reaches IEND.</summary>
    public static bool Png(byte[] png)
    {
        long at = 8;
        while (at + 8 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)at, 4));
            bool end = png.AsSpan((int)at + 4, 4).SequenceEqual("IEND"u8);
            at += 12L + length;
            if (at > png.Length) return false;
            if (end) return true;
        }
        return false;
    }

    /// <summary>A BMP holds its pixel array: from the offset in the file header, the rows the info header declares (each
    /// padded to 4 bytes) when they are uncompressed, or the declared image size when they are compressed.</summary>
    public static bool Bmp(byte[] bmp)
    {
        if (bmp.Length < 26) return false;
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(10));
        uint header = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(14));
        long width, height, bitsPerPixel, compression = 0, imageSize = 0;
        if (header == 12)   // BITMAPCOREHEADER: 16-bit sizes, never compressed
        {
            width = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(18));
            height = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(20));
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(24));
        }
        else
        {
            if (bmp.Length < 38) return false;
            width = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bmp.AsSpan(18)));
            height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bmp.AsSpan(22)));   // negative: top-down rows
            bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(bmp.AsSpan(28));
            compression = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(30));
            imageSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp.AsSpan(34));
        }
        // BI_RGB, BI_BITFIELDS and BI_ALPHABITFIELDS store plain rows; RLE, JPEG and PNG payloads declare their size.
        long pixelBytes = compression is 0 or 3 or 6 ? (width * bitsPerPixel + 31) / 32 * 4 * height : imageSize;
        return offset + pixelBytes <= bmp.Length;
    }

    /// <summary>Walks a GIF's blocks after the screen descriptor and its palette: every extension and every image must
    /// end (its chain of sub-blocks reaches the empty one) inside the file, and at least one image must be there. A file
    /// that stops after a whole block without the trailer byte is accepted, as decoders accept it: nothing is missing
    /// from the images it holds.</summary>
    public static bool Gif(byte[] gif)
    {
        if (gif.Length < 13) return false;
        long at = 13 + Palette(gif[10]);
        bool image = false;
        while (at < gif.Length)
        {
            switch (gif[at])
            {
                case 0x3B: return image;                                   // trailer
                case 0x21: at = SubBlocks(gif, at + 2); break;              // extension: introducer, label, sub-blocks
                case 0x2C:                                                 // image: descriptor, palette, code size, sub-blocks
                    if (at + 10 > gif.Length) return false;
                    at = SubBlocks(gif, at + 10 + Palette(gif[at + 9]) + 1);
                    if (at < 0) return false;
                    image = true;
                    break;
                default: return image;                                     // not a block (damage, padding): whole if an image is
            }
            if (at < 0) return false;
        }
        return image;
    }

    /// <summary>A WebP's RIFF header declares the size of what follows it: a whole file holds that many bytes.</summary>
    public static bool WebP(byte[] webp) =>
        webp.Length >= 12 && 8L + BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(4)) <= webp.Length;

    /// <summary>Bytes of the colour table a GIF packed field announces (bit 7: present; bits 0-2: 2^(n+1) entries).</summary>
    private static long Palette(byte packed) => (packed & 0x80) != 0 ? 3L << ((packed & 7) + 1) : 0;

    /// <summary>The position after a chain of sub-blocks (a length byte, that many bytes; an empty one ends it) that starts
    /// at <paramref name="at"/>, or -1 when the file ends first.</summary>
    private static long SubBlocks(byte[] gif, long at)
    {
        while (at < gif.Length)
        {
            byte length = gif[at];
            at += 1 + length;
            if (length == 0) return at;
        }
        return -1;
    }
}
