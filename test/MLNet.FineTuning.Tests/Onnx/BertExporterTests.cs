using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Tests.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Onnx;

public class BertExporterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_pytorch_tanh")]
    [InlineData("relu")]
    public void Write_Batch3DifferentLengths_LastHiddenStateMatchesTorchSharpOnTokens(string activation)
    {
        using var scope = NewDisposeScope();
        using var encoder = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny with { HiddenAct = activation }), seed: 11);
        var (ids, mask, types) = Batch(seed: 12, 9, 6, 3);
        using var session = new InferenceSession(EncoderGraph(encoder, out string hidden));

        double diff = HiddenDiff(encoder, session, hidden, ids, mask, types);

        output.WriteLine($"{activation}: max |ONNX Runtime − TorchSharp| on tokens = {diff:E2}");
        Assert.True(diff < 1e-4, $"last hidden state differs by {diff:E2}");
    }

    [Fact]
    public void Write_RobertaPositionsAfterPadding_LastHiddenStateMatchesTorchSharpOnTokens()
    {
        // RoBERTa's positions start at pad id + 1: the graph slices the position table from there.
        using var scope = NewDisposeScope();
        var roberta = BertTestKit.Tiny with
        {
            ModelType = BertConfig.Roberta, PadTokenId = 1, MaxPositionEmbeddings = 11, TypeVocabSize = 1, LayerNormEps = 1e-5,
        };
        using var encoder = BertTestKit.Randomised(new BertEncoder(roberta), seed: 15);
        var (ids, mask, _) = Batch(seed: 16, 9, 6, 3);
        using var session = new InferenceSession(EncoderGraph(encoder, out string hidden));

        double diff = HiddenDiff(encoder, session, hidden, ids, mask, zeros_like(ids));

        output.WriteLine($"roberta: max |ONNX Runtime − TorchSharp| on tokens = {diff:E2}");
        Assert.True(diff < 1e-4, $"last hidden state differs by {diff:E2}");
    }

    [Fact]
    public void Write_OneSession_RunsBatch1Seq5AndBatch3Seq9()
    {
        using var scope = NewDisposeScope();
        using var encoder = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 13);
        using var session = new InferenceSession(EncoderGraph(encoder, out string hidden));

        foreach (var lengths in new[] { new[] { 5 }, [9, 4, 7] })
        {
            var (ids, mask, types) = Batch(seed: 14, lengths);
            double diff = HiddenDiff(encoder, session, hidden, ids, mask, types);
            output.WriteLine($"batch {lengths.Length} × seq {lengths.Max()}: max |diff| on tokens = {diff:E2}");
            Assert.True(diff < 1e-4, $"batch {lengths.Length} × seq {lengths.Max()}: differs by {diff:E2}");
        }
    }

    [Fact]
    public void Write_ModelInTrainingMode_StaysInTrainingMode()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        encoder.train();
        EncoderGraph(encoder, out _);
        Assert.True(encoder.training);
    }

    [Fact]
    public void Write_ProjectionNotALinear_ThrowsNotSupportedNamingIt()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        const string name = "encoder.layer.1.attention.self.value";
        var original = encoder.NamedLinears().Single(l => l.Name == name).Linear;
        // Stands in for an unmerged LoRA layer: something other than a plain Linear in the slot.
        encoder.ReplaceModule(name, nn.Sequential(original));

        var e = Assert.Throws<NotSupportedException>(() => EncoderGraph(encoder, out _));

        Assert.Contains($"'{name}'", e.Message);
        Assert.Contains("Sequential", e.Message);
    }

    [Fact]
    public void LinearExporter_MergedWeightTensors_MatchesLinearOnRank3Input()
    {
        using var scope = NewDisposeScope();
        manual_seed(15);
        var weight = randn(6, 4);
        var bias = randn(6);
        var x = randn(2, 3, 4);
        var writer = new OnnxGraphWriter("linear");
        string input = writer.AddInput("x", DataType.Float, "batch", "sequence", 4);
        string y = LinearExporter.Write(writer, input, weight, bias, "merged");
        writer.AddOutput(y, DataType.Float, "batch", "sequence", 6);

        using var session = new InferenceSession(writer.ToBytes());
        using var results = OnnxTestKit.Run(session, input, x, y);
        double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), nn.functional.linear(x, weight, bias));
        Assert.True(diff < 1e-5, $"differs by {diff:E2}");
    }

    /// <summary>The encoder alone: the three inputs → last hidden state.</summary>
    internal static byte[] EncoderGraph(BertEncoder encoder, out string hidden)
    {
        var writer = new OnnxGraphWriter("bert_encoder");
        var (ids, mask, types) = BertExporter.AddInputs(writer);
        hidden = BertExporter.Write(writer, encoder, ids, mask, types);
        writer.AddOutput(hidden, DataType.Float, BertExporter.BatchDim, BertExporter.SequenceDim, encoder.Config.HiddenSize);
        return writer.ToBytes();
    }

    /// <summary>
    /// Rows of the given lengths padded to the longest: random ids in [1, vocab), mask 1 on tokens, token type 1
    /// on the second half of each row's tokens (two segments), zeros (the pad id) after.
    /// </summary>
    internal static (Tensor Ids, Tensor Mask, Tensor Types) Batch(int seed, params int[] lengths)
    {
        var random = new Random(seed);
        int s = lengths.Max();
        var ids = new long[lengths.Length * s];
        var mask = new long[ids.Length];
        var types = new long[ids.Length];
        for (int r = 0; r < lengths.Length; r++)
            for (int i = 0; i < lengths[r]; i++)
            {
                ids[r * s + i] = random.Next(1, BertTestKit.Tiny.VocabSize);
                mask[r * s + i] = 1;
                types[r * s + i] = i >= lengths[r] / 2 ? 1 : 0;
            }
        return (tensor(ids, [lengths.Length, s]), tensor(mask, [lengths.Length, s]), tensor(types, [lengths.Length, s]));
    }

    /// <summary>max |ONNX Runtime − TorchSharp (eval)| over token positions; padded rows mean nothing in either.</summary>
    private static double HiddenDiff(BertEncoder encoder, InferenceSession session, string hidden, Tensor ids, Tensor mask, Tensor types)
    {
        using var scope = NewDisposeScope();
        encoder.eval();
        Tensor expected;
        using (no_grad()) expected = encoder.forward(ids, mask, types);
        using var results = OnnxTestKit.RunTokens(session, ids, mask, types, hidden);
        Assert.Equal(expected.shape, results[0].GetTensorTypeAndShape().Shape);
        var actual = tensor(results[0].GetTensorDataAsSpan<float>().ToArray(), expected.shape);
        var padding = mask.eq(0).unsqueeze(-1);
        return actual.sub(expected).abs().masked_fill(padding, 0).max().item<float>();
    }
}
