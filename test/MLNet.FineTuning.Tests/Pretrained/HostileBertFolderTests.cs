using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>BERT folders whose config.json, vocab.txt or tokenizer_config.json lie or are huge: each refused by name
/// before the network is built (BertFolderLimits).</summary>
public class HostileBertFolderTests
{
    private static TempDirectory HonestFolder()
    {
        var dir = new TempDirectory();
        using var source = new BertEncoder(BertTestKit.Tiny);
        BertTestKit.WriteFolder(dir.Path, BertTestKit.Tiny, source.state_dict(), "model.safetensors");
        return dir;
    }

    [Theory]
    [InlineData("hidden_size", 1 << 20)]                 // 16 TB of attention weights
    [InlineData("num_hidden_layers", 1_000_000)]
    [InlineData("vocab_size", 2_000_000_000)]            // a word embedding of 2·10⁹ rows
    [InlineData("max_position_embeddings", 100_000_000)]
    [InlineData("intermediate_size", 1_000_000_000)]
    public void ConfigAskingForANetworkTheWeightsCannotFill_IsRefusedBeforeBuildingIt(string field, int value)
    {
        using var dir = HonestFolder();
        var config = BertTestKit.Tiny;
        config = field switch
        {
            "hidden_size" => config with { HiddenSize = value },
            "num_hidden_layers" => config with { NumHiddenLayers = value },
            "vocab_size" => config with { VocabSize = value },
            "max_position_embeddings" => config with { MaxPositionEmbeddings = value },
            _ => config with { IntermediateSize = value },
        };
        File.WriteAllText(dir.File("config.json"), config.ToJson());

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains(dir.File("config.json"), e.Message);
        Assert.Contains(dir.File("model.safetensors"), e.Message);
        Assert.Contains($"{field} {value}", e.Message);
        Assert.Contains("do not belong together", e.Message);
    }

    [Fact]
    public void VocabularyLongerThanTheEmbedding_IsRefusedNamingTheFile()
    {
        using var dir = HonestFolder();
        // One token more than vocab_size: its id would index past the word embedding's last row.
        File.AppendAllText(dir.File("vocab.txt"), "one-too-many\n");

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains(dir.File("vocab.txt"), e.Message);
        Assert.Contains($"more than {BertTestKit.Tiny.VocabSize} lines", e.Message);
    }

    [Fact]
    public void VocabularyWithAHugeLine_IsRefusedWithoutReadingItWhole()
    {
        using var dir = HonestFolder();
        var lines = File.ReadAllLines(dir.File("vocab.txt"));
        lines[5] = new string('x', 50_000_000);   // 50 MB on one line
        File.WriteAllLines(dir.File("vocab.txt"), lines);
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains("line 6 is longer than 1024 bytes", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 16 << 20, "the line must not be read into memory");
    }

    [Theory]
    [InlineData("config.json")]
    [InlineData("tokenizer_config.json")]
    public void JsonFileOfManyMegabytes_IsRefusedUnread(string name)
    {
        using var dir = HonestFolder();
        var path = dir.File(name);
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write("{\"do_lower_case\": true"u8);
            f.SetLength(BertFolderLimits.MaxJsonBytes + 1);   // the rest: zero bytes, never read
        }
        long before = GC.GetTotalAllocatedBytes(precise: true);

        var e = Assert.Throws<InvalidDataException>(() => BertCheckpoint.Load(dir.Path));

        Assert.Contains(path, e.Message);
        Assert.Contains("a few kilobytes", e.Message);
        Assert.True(GC.GetTotalAllocatedBytes(precise: true) - before < 4 << 20);
    }

    [Fact]
    public void HonestFolder_StillLoads()
    {
        using var dir = HonestFolder();
        // vocab_size lines exactly, the last without a line end: the largest vocabulary that is allowed.
        File.WriteAllText(dir.File("vocab.txt"), File.ReadAllText(dir.File("vocab.txt")).TrimEnd('\n'));

        using var encoder = BertCheckpoint.Load(dir.Path).Encoder;

        Assert.Equal(BertTestKit.Tiny.HiddenSize, encoder.Config.HiddenSize);
    }
}
