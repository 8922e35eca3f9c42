using System.Text;
using MLNet.FineTuning.Runtime.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Reading vocab.json and merges.txt: special ids, size, sources, and errors that name the file.</summary>
public class RobertaTextTokenizerVocabularyTests
{
    private static readonly (string, string)[] Merges = [("a", "b"), ("ab", "c")];

    private static MemoryStream Text(string content) => new(Encoding.UTF8.GetBytes(content));

    private static string TempFile(string name, string content)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlnet-finetuning-bpe-files-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Create_DerivedVocabulary_ExposesSpecialIdsAndSize()
    {
        var tokenizer = RobertaVocabulary.Tokenizer;

        Assert.False(tokenizer.AddPrefixSpace);
        Assert.Equal((0, 1, 2, 3, 50260), (tokenizer.ClsId, tokenizer.PadId, tokenizer.SepId, tokenizer.UnkId, tokenizer.MaskId));
        Assert.Equal(50261, tokenizer.VocabularySize);
        Assert.Equal(50000, tokenizer.Merges.Count);
        Assert.Equal(("Ġ", "t"), tokenizer.Merges[0]); // GPT-2's first merge
        Assert.Equal(999, tokenizer.Vocabulary["Ġworld"]);
    }

    [Fact]
    public void Create_FromStreams_SameAsFromPaths()
    {
        using var vocabulary = File.OpenRead(RobertaVocabulary.VocabJsonPath);
        using var merges = File.OpenRead(RobertaVocabulary.MergesPath);
        var fromStreams = RobertaTextTokenizer.Create(vocabulary, merges, addPrefixSpace: false);

        Assert.Equal(RobertaVocabulary.Tokenizer.Encode("Streams, paths!", "same ids", 32).InputIds,
            fromStreams.Encode("Streams, paths!", "same ids", 32).InputIds);
    }

    [Fact]
    public void EncodeBatch_PadsWithPadIdAndMasksPadding()
    {
        var tokenizer = RobertaVocabulary.Tokenizer;

        var batch = tokenizer.EncodeBatch(["Hello world", null], ["!", null], 16);

        Assert.Equal([2L, 7L], batch.Shape);
        Assert.Equal([0, 15500, 999, 2, 2, 4, 2, 0, 2, 2, 2, 1, 1, 1], batch.InputIds);
        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], batch.AttentionMask);
        Assert.All(batch.TokenTypeIds, t => Assert.Equal(0, t));
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, true)]
    public void Encode_MaxLengthBelowSpecials_ThrowsNamingIt(int maxLength, bool pair)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RobertaVocabulary.Tokenizer.Encode("a", pair ? "b" : null, maxLength));

        Assert.Equal("maxLength", e.ParamName);
    }

    [Fact]
    public void Create_MissingFile_ThrowsNamingPathAndFile()
    {
        string missing = Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "vocab.json");

        var e = Assert.Throws<FileNotFoundException>(() => RobertaTextTokenizer.Create(missing, RobertaVocabulary.MergesPath));
        Assert.Contains(missing, e.Message);
        Assert.Contains("vocab.json", e.Message);
        var m = Assert.Throws<FileNotFoundException>(() => RobertaTextTokenizer.Create(RobertaVocabulary.VocabJsonPath, missing + ".merges"));
        Assert.Contains("merges.txt", m.Message);
    }

    [Theory]
    [InlineData("{\"a\": 1,", "not valid JSON")]
    [InlineData("[\"a\", \"b\"]", "one JSON object")]
    [InlineData("{\"a\": \"one\"}", "the id of 'a' must be an integer")]
    [InlineData("{\"a\": -1}", "the id of 'a' must be an integer")]
    [InlineData("{\"a\": {\"b\": 1}}", "the id of 'a' must be an integer")]
    [InlineData("{}", "has no tokens")]
    public void Create_MalformedVocabJson_ThrowsNamingFileAndExpectation(string json, string expected)
    {
        string path = TempFile("vocab.json", json);

        var e = Assert.Throws<InvalidDataException>(() => RobertaTextTokenizer.Create(path, RobertaVocabulary.MergesPath));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Create_DuplicateTokenOrId_ThrowsNamingIt()
    {
        var token = Assert.Throws<InvalidDataException>(() => RobertaTextTokenizer.Create(Text("{\"a\": 1, \"a\": 2}"), Text(""), false));
        var id = Assert.Throws<InvalidDataException>(() => RobertaTextTokenizer.Create(Text("{\"a\": 1, \"b\": 1}"), Text(""), false));

        Assert.Contains("vocabJson (vocab.json) lists 'a' twice", token.Message);
        Assert.Contains("gives id 1 to two tokens", id.Message);
    }

    [Theory]
    [InlineData("<s>")]
    [InlineData("</s>")]
    [InlineData("<pad>")]
    [InlineData("<unk>")]
    [InlineData("<mask>")]
    public void Create_MissingSpecialToken_ThrowsNamingIt(string special)
    {
        var tokens = SmallBpeVocabulary.Tokens(Merges).Where(t => t != special);

        var e = Assert.Throws<InvalidDataException>(() =>
            RobertaTextTokenizer.Create(SmallBpeVocabulary.VocabJson(tokens), SmallBpeVocabulary.MergesText(Merges), false));
        Assert.Contains($"vocabJson (vocab.json) has no '{special}'", e.Message);
    }

    [Fact]
    public void Create_MissingByteToken_ThrowsNamingByte()
    {
        var tokens = SmallBpeVocabulary.Tokens(Merges).Where(t => t != "Ġ");

        var e = Assert.Throws<InvalidDataException>(() =>
            RobertaTextTokenizer.Create(SmallBpeVocabulary.VocabJson(tokens), SmallBpeVocabulary.MergesText(Merges), false));
        Assert.Contains("no token for byte 0x20 ('Ġ')", e.Message);
    }

    [Theory]
    [InlineData("#version: 0.2\na b\nab c d\n", "line 3: expected two tokens separated by one space")]
    [InlineData("a b\n\nab c\n", "line 2: expected two tokens separated by one space")]
    [InlineData("a  b\n", "line 1: expected two tokens separated by one space")]
    [InlineData("a b\nab x\n", "line 2: 'abx' of the merge \"ab x\" is not in")]
    [InlineData("a b\nq z\n", "line 2: 'qz' of the merge \"q z\" is not in")]
    [InlineData("a b\nab 中\n", "line 2: '中' of the merge \"ab 中\" is not in")] // not a byte of GPT-2's alphabet
    public void Create_BadMerges_ThrowsNamingFileLineAndExpectation(string merges, string expected)
    {
        string path = TempFile("merges.txt", merges);
        string vocabulary = TempFile("vocab.json", Encoding.UTF8.GetString(SmallBpeVocabulary.VocabJson(SmallBpeVocabulary.Tokens(Merges)).ToArray()));

        var e = Assert.Throws<InvalidDataException>(() => RobertaTextTokenizer.Create(vocabulary, path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
    }
}
