using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>Image files a stranger could send: cut off, or declaring far more pixels than they hold.</summary>
internal static class HostileImages
{
    /// <summary>A committed 28 × 28 Fashion-MNIST PNG.</summary>
    public static byte[] Png => File.ReadAllBytes(Directory.GetFiles(Path.Combine(TestData.FashionRoot, "test", "Bag")).Order(StringComparer.Ordinal).First());

    /// <summary>That PNG upscaled to <paramref name="side"/> × <paramref name="side"/> (the caller disposes it).</summary>
    public static SKBitmap Upscaled(int side)
    {
        using var small = SKBitmap.Decode(Png);
        return small.Resize(new SKImageInfo(side, side), SKFilterQuality.Medium);
    }

    /// <summary>That PNG upscaled to 256 × 256 and encoded as JPEG (quality 90), so that cutting it loses real data.</summary>
    public static byte[] Jpeg
    {
        get
        {
            using var large = Upscaled(256);
            using var image = SKImage.FromBitmap(large);
            using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
            return data.ToArray();
        }
    }

    /// <summary>A valid PNG of a few hundred bytes that declares <paramref name="width"/> × <paramref name="height"/>
    /// pixels of 8-bit grey: its one IDAT chunk holds the zlib stream of a single zero row (a decompression bomb's header).</summary>
    public static byte[] PngDeclaring(int width, int height)
    {
        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;   // bit depth; colour type 0 (grey), compression, filter, interlace 0
        Chunk(png, "IHDR", header);
        var zlib = new MemoryStream();
        using (var z = new ZLibStream(zlib, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[1 + width]);
        Chunk(png, "IDAT", zlib.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        byte[] typeAndData = [.. System.Text.Encoding.ASCII.GetBytes(type), .. data];
        png.Write(typeAndData);
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(typeAndData));
        png.Write(crc);
    }

    private static uint Crc32(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }
}
