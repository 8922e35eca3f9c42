// Writes Fashion-MNIST (IDX, from Debian's dataset-fashion-mnist) as an image-folder tree of PNG files:
//   <out>/<split>/<class-name>/<index>.png
// The folder layout is the one an ML.NET user points LoadImages at; file names keep the IDX index so
// the subset can be traced back to the source file order.
using System.IO.Compression;

internal static class FashionMnist
{
    private static readonly string[] Classes = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"];

    public static int Run(string[] args)
    {
        string src = args[1], dst = args[2];
        Write(src, dst, "train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", Options.Int(args, "--train-count", 2000));
        Write(src, dst, "test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", Options.Int(args, "--test-count", 10000));
        return 0;
    }

    private static void Write(string src, string dst, string split, string imagesFile, string labelsFile, int count)
    {
        byte[] images = ReadGz(Path.Combine(src, imagesFile)), labels = ReadGz(Path.Combine(src, labelsFile));
        int n = BigEndian(images, 4), rows = BigEndian(images, 8), cols = BigEndian(images, 12);
        if (BigEndian(images, 0) != 2051 || BigEndian(labels, 0) != 2049 || BigEndian(labels, 4) != n)
            throw new InvalidDataException($"{imagesFile}/{labelsFile}: not a matching IDX image/label pair.");
        count = Math.Min(count, n);
        foreach (var c in Classes) Directory.CreateDirectory(Path.Combine(dst, split, c));
        for (int i = 0; i < count; i++)   // first N in file order: the reference split (samples/data/README.md)
        {
            var pixels = new ReadOnlySpan<byte>(images, 16 + i * rows * cols, rows * cols);
            File.WriteAllBytes(Path.Combine(dst, split, Classes[labels[8 + i]], $"{i:D5}.png"), GrayPng(pixels, cols, rows));
        }
        Console.WriteLine($"{split}: {count} images -> {Path.Combine(dst, split)}");
    }

    private static byte[] ReadGz(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }

    private static int BigEndian(byte[] b, int at) => b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];

    // Minimal 8-bit grayscale PNG: signature, IHDR, one zlib IDAT (filter byte 0 per row), IEND.
    private static byte[] GrayPng(ReadOnlySpan<byte> pixels, int width, int height)
    {
        var raw = new byte[height * (width + 1)];
        for (int y = 0; y < height; y++) pixels.Slice(y * width, width).CopyTo(raw.AsSpan(y * (width + 1) + 1));
        using var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.SmallestSize, leaveOpen: true)) zs.Write(raw);
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        WriteBe(ihdr, 0, width); WriteBe(ihdr, 4, height);
        ihdr[8] = 8; ihdr[9] = 0;   // bit depth 8, colour type 0 (grayscale)
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        WriteBe(head, 0, data.Length);
        for (int i = 0; i < 4; i++) head[4 + i] = (byte)type[i];
        s.Write(head);
        s.Write(data);
        var crcInput = new byte[4 + data.Length];
        Array.Copy(head, 4, crcInput, 0, 4);
        data.CopyTo(crcInput, 4);
        var crc = new byte[4];
        WriteBe(crc, 0, (int)Crc32(crcInput));
        s.Write(crc);
    }

    private static void WriteBe(byte[] b, int at, int v) { b[at] = (byte)(v >> 24); b[at + 1] = (byte)(v >> 16); b[at + 2] = (byte)(v >> 8); b[at + 3] = (byte)v; }

    private static uint Crc32(byte[] data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            c ^= b;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
