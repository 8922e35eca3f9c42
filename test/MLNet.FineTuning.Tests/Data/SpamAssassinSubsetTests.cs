using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MLNet.FineTuning.Tests.Data;

/// <summary>
/// The committed SpamAssassin subset (samples/data/spam-assassin) as a user loads it: ML.NET's TSV reader
/// must give back every row, with texts intact, in the counts of the reference split (samples/data/README.md).
/// </summary>
public class SpamAssassinSubsetTests
{
    private sealed class Message
    {
        [LoadColumn(0)] public string Label { get; set; } = "";
        [LoadColumn(1)] public string Text { get; set; } = "";
        [LoadColumn(2)] public string Id { get; set; } = "";
    }

    private static string PathOf(string split) => Path.Combine(TestData.SpamAssassinRoot, split + ".tsv");

    private static Message[] Load(string split)
    {
        var ml = new MLContext(1);
        var view = ml.Data.LoadFromTextFile<Message>(PathOf(split), hasHeader: true, separatorChar: '\t', allowQuoting: false);
        return ml.Data.CreateEnumerable<Message>(view, reuseRowObject: false).ToArray();
    }

    [Theory]
    [InlineData("train", 3118, 191, 1517)]
    [InlineData("test", 782, 59, 379)]
    public void LoadFromTextFile_CommittedSplit_HasTheReferenceClassCounts(string split, int easyHam, int hardHam, int spam)
    {
        var counts = Load(split).GroupBy(m => m.Label).ToDictionary(g => g.Key, g => g.Count());

        Assert.Equal(new Dictionary<string, int> { ["easy_ham"] = easyHam, ["hard_ham"] = hardHam, ["spam"] = spam }, counts);
    }

    [Theory]
    [InlineData("train")]
    [InlineData("test")]
    public void LoadFromTextFile_CommittedSplit_EveryRowReadsBackAsWritten(string split)
    {
        // The file itself, split by hand: a reader that stopped at a quote or a long line would differ here.
        var lines = File.ReadAllLines(PathOf(split), Encoding.UTF8);
        Assert.Equal("Label\tText\tId", lines[0]);
        var expected = lines.Skip(1).Select(l => l.Split('\t')).ToArray();

        var rows = Load(split);

        Assert.Equal(expected.Length, rows.Length);
        Assert.All(expected, f => Assert.Equal(3, f.Length));
        for (int i = 0; i < rows.Length; i++)
            Assert.Equal((expected[i][0], expected[i][1], expected[i][2]), (rows[i].Label, rows[i].Text, rows[i].Id));
        Assert.All(rows, m => Assert.InRange(m.Text.Length, 1, 2000));
    }

    [Fact]
    public void Ids_BothSplits_FollowTheHashSplitRuleAndAreUnique()
    {
        // Test iff the first 8 bytes of SHA-256(Id), big-endian, mod 5 == 0 (samples/data/README.md).
        static bool IsTest(string id) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(id))) % 5 == 0;
        var train = Load("train").Select(m => m.Id).ToArray();
        var test = Load("test").Select(m => m.Id).ToArray();

        Assert.All(train, id => Assert.False(IsTest(id), id));
        Assert.All(test, id => Assert.True(IsTest(id), id));
        Assert.Equal(train.Length + test.Length, train.Concat(test).Distinct().Count());
    }
}
