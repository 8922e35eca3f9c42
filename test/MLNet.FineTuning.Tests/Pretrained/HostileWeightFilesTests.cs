using System.Text;
using MLNet.FineTuning.Pretrained;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>
/// Weight files from strangers (issue 11): a .safetensors or pickle file that lies about its contents is refused
/// with an <see cref="InvalidDataException"/> that names the file, before anything large is allocated, never an
/// out-of-memory failure, a crash or a partly loaded model.
/// </summary>
public sealed class HostileWeightFilesTests : IDisposable
{
    readonly TempDirectory folder = new();

    public void Dispose() => folder.Dispose();

    string Safetensors(string name, ulong headerLength, string header, int dataBytes = 16)
    {
        string path = folder.File(name + ".safetensors");
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes(headerLength));
        file.Write(Encoding.UTF8.GetBytes(header));
        file.Write(new byte[dataBytes]);
        return path;
    }

    static string Header(string dtype, string shape, string offsets) =>
        $"{{\"w\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}}}";

    public static TheoryData<string, ulong?, string, string> Lies => new()
    {
        // name, header length (null: the header's own), header, what the message must say
        { "header-length-beyond-file", 1UL << 40, Header("F32", "[2,2]", "[0,16]"), "header length says" },
        { "header-length-huge", ulong.MaxValue, Header("F32", "[2,2]", "[0,16]"), "header length says" },
        { "header-length-2-GB", 2_000_000_000UL, Header("F32", "[2,2]", "[0,16]"), "header length says" },
        { "header-not-json", null, "{\"w\": [not json", "header is not JSON" },
        { "offsets-beyond-file", null, Header("F32", "[2,2]", "[0,1099511627776]"), "tensor 'w' has data_offsets" },
        { "offsets-reversed", null, Header("F32", "[2,2]", "[16,0]"), "tensor 'w' has data_offsets" },
        { "shape-too-large-for-its-bytes", null, Header("F32", "[1000000,1000000]", "[0,16]"), "(4,000,000,000,000 bytes), but its data_offsets [0,16] hold 16" },
        { "shape-overflowing", null, Header("F32", "[9223372036854775807,9223372036854775807]", "[0,16]"), "more elements than any file holds" },
        { "shape-negative", null, Header("F32", "[-1,4]", "[0,16]"), "every dimension must be a whole number" },
        { "unknown-dtype", null, Header("X99", "[2,2]", "[0,16]"), "dtype 'X99'" },
    };

    [Theory]
    [MemberData(nameof(Lies))]
    public void LyingSafetensors_IsRefusedNamingTheFile(string name, ulong? headerLength, string header, string mentions)
    {
        string path = Safetensors(name, headerLength ?? (ulong)Encoding.UTF8.GetByteCount(header), header);
        using var scope = TorchSharp.torch.NewDisposeScope();
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains(mentions, e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 64 << 20, "refusing a lying file must not allocate what it claims");
    }

    [Fact]
    public void HonestSafetensors_StillLoads()
    {
        string header = Header("F32", "[2,2]", "[0,16]");
        string path = Safetensors("honest", (ulong)Encoding.UTF8.GetByteCount(header), header);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var state = StateDictLoader.Read(path);
        Assert.Equal([2L, 2L], state["w"].shape);
    }

    [Fact]
    public void ZipPickleThatCallsAFunction_RunsNothingAndIsRefused()
    {
        // The format torch.save writes (a zip with archive/data.pkl): the pickle calls os.system to create a file. In
        // Python, torch.load(weights_only=False) would run it; here nothing may run, and the file is refused.
        string marker = folder.File("pwned");
        string path = folder.File("evil-zip.pt");
        byte[] command = Encoding.ASCII.GetBytes($"touch {marker}");
        byte[] pickle = [0x80, 0x02, .. "cos\nsystem\n"u8, (byte)'X', .. BitConverter.GetBytes(command.Length), .. command, 0x85, 0x52, 0x2e];
        using (var zip = new System.IO.Compression.ZipArchive(File.Create(path), System.IO.Compression.ZipArchiveMode.Create))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl").Open()) entry.Write(pickle);
            using (var entry = zip.CreateEntry("archive/version").Open()) entry.Write("3\n"u8);
        }
        using var scope = TorchSharp.torch.NewDisposeScope();

        var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.Read(path));

        Assert.Contains(path, e.Message);
        Assert.False(File.Exists(marker), "the pickle's function ran");
    }

    [Fact]
    public void PickleThatCallsAFunction_IsRefused()
    {
        // protocol 2: GLOBAL os.system, the argument 'echo pwned', REDUCE, STOP: what a malicious .pt file does in Python.
        string path = folder.File("evil.pt");
        File.WriteAllBytes(path, [0x80, 0x02, .. "cos\nsystem\n"u8, .. "X\x0a\x00\x00\x00echo pwned"u8, 0x85, 0x52, 0x2e]);
        using var scope = TorchSharp.torch.NewDisposeScope();
        var e = Assert.Throws<InvalidDataException>(() => StateDictLoader.Read(path));
        Assert.Contains(path, e.Message);
    }
}
