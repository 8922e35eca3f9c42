using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Tests.Modeling;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Onnx;

public class TextClassifierExporterTests(ITestOutputHelper output)
{
    private static readonly string[] ClassNames = ["ham", "spam", "other"];

    [Theory]
    [InlineData(TextPooling.Cls)]
    [InlineData(TextPooling.Mean)]
    public void Export_TinyEncoderPaddedBatch_OutputsMatchTorchSharp(TextPooling pooling)
    {
        using var scope = NewDisposeScope();
        using var encoder = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 21);
        var (ids, mask, types) = BertExporterTests.Batch(seed: 23, 9, 6, 3);
        using var head = Head(encoder, pooling, ids, mask, types, seed: 22);

        double diff = Compare(encoder, pooling, head, ids, mask, types);

        output.WriteLine($"{pooling}: max |diff| probabilities = {diff:E2}");
        Assert.True(diff < 1e-4, $"probabilities differ from TorchSharp by {diff:E2}");
    }

    [Fact]
    public void Export_MiniLmL6DefaultWeights_ProbabilitiesMatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        using var encoder = PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained().Encoder;
        var loaded = clock.Elapsed;
        // "[CLS] hello world [SEP] how are you [SEP]" and a shorter, padded "[CLS] the cat sat [SEP]" (BERT-uncased ids).
        var (ids, mask, types) = BertTestKit.PaddedBatch([101, 7592, 2088, 102, 2129, 2024, 2017, 102], [101, 1996, 4937, 2938, 102], segmentStart: 4);
        using var head = Head(encoder, TextPooling.Mean, ids, mask, types, seed: 24);

        double diff = Compare(encoder, TextPooling.Mean, head, ids, mask, types);

        output.WriteLine($"MiniLM-L6, Mean: max |diff| probabilities = {diff:E2}; load {loaded.TotalSeconds:F1} s, " +
                         $"export + ONNX Runtime + TorchSharp {(clock.Elapsed - loaded).TotalSeconds:F1} s");
        Assert.True(diff < 1e-4, $"probabilities differ from TorchSharp by {diff:E2}");
    }

    [Fact]
    public void Export_OnnxRuntimeOptimizer_FusesEachLayerIntoAttentionBiasGeluAndLayerNorms()
    {
        // ONNX Runtime is fast on this export only when its optimizer recognises each layer (one Attention kernel
        // per self-attention, BiasGelu per feed-forward, LayerNormalization from the written nine-op form). A
        // fusion that stops matching fails nothing else: the graph still runs, unfused and slower.
        using var encoder = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 26);
        using var head = new ClassifierHead(BertTestKit.Tiny.HiddenSize, ClassNames.Length, dropoutRate: 0);
        int layers = BertTestKit.Tiny.NumHiddenLayers;

        var ops = OnnxRuntimeGraph.OptimizedOpCounts(TextClassifierExporter.Export(encoder, TextPooling.Mean, head, ClassNames));

        output.WriteLine(OnnxRuntimeGraph.Describe(ops));
        Assert.Equal(layers, ops.GetValueOrDefault("com.microsoft:Attention"));
        Assert.Equal(layers, ops.GetValueOrDefault("com.microsoft:BiasGelu"));
        Assert.Equal(2 * layers + 1, ops.GetValueOrDefault("LayerNormalization"));
        Assert.Equal(0, ops.GetValueOrDefault("Transpose"));
        Assert.Equal(0, ops.GetValueOrDefault("ReduceMean"));
        Assert.Equal(1, ops.GetValueOrDefault("Softmax"));   // the probabilities; every attention softmax is fused
    }

    [Fact]
    public void Export_HeadWidthDiffersFromEncoder_ThrowsNamingBoth()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        using var head = new ClassifierHead(16, ClassNames.Length, dropoutRate: 0);
        var e = Assert.Throws<ArgumentException>(() => TextClassifierExporter.Export(encoder, TextPooling.Mean, head, ClassNames));
        Assert.Contains("16 features", e.Message);
        Assert.Contains("gives 32", e.Message);
    }

    [Fact]
    public void Export_ClassNamesCountDiffersFromHead_ThrowsNamingBothCounts()
    {
        using var encoder = new BertEncoder(BertTestKit.Tiny);
        using var head = new ClassifierHead(32, ClassNames.Length, dropoutRate: 0);
        var e = Assert.Throws<ArgumentException>(() => TextClassifierExporter.Export(encoder, TextPooling.Cls, head, ["a", "b"]));
        Assert.Contains("2 class names", e.Message);
        Assert.Contains("3 outputs", e.Message);
    }

    [Fact]
    public void Save_NormalTempPath_WritesLoadableModelWithTokenInputs()
    {
        var folder = Directory.CreateTempSubdirectory("onnx-text-save-");
        try
        {
            using var encoder = new BertEncoder(BertTestKit.Tiny with { NumHiddenLayers = 1 });
            using var head = new ClassifierHead(32, ClassNames.Length, dropoutRate: 0);
            string path = Path.Combine(folder.FullName, "model.onnx");
            TextClassifierExporter.Save(encoder, TextPooling.Mean, head, ClassNames, path);

            using var session = new InferenceSession(path);
            Assert.Equal([BertExporter.InputIdsInput, BertExporter.AttentionMaskInput, BertExporter.TokenTypeIdsInput], session.InputNames);
            Assert.Equal([TextClassifierExporter.ProbabilitiesOutput, TextClassifierExporter.PredictedIndexOutput,
                TextClassifierExporter.PredictedLabelOutput], session.OutputNames);
            Assert.Equal(["model.onnx"], folder.GetFiles().Select(f => f.Name));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Exports, runs ONNX Runtime and the TorchSharp reference (eval encoder, <see cref="TextPoolingMath"/>, head);
    /// asserts equal indices and labels and that the probabilities are far from uniform (else any graph would
    /// pass); returns max |Δ probabilities|.
    /// </summary>
    private static double Compare(BertEncoder encoder, TextPooling pooling, ClassifierHead head, Tensor ids, Tensor mask, Tensor types)
    {
        using var scope = NewDisposeScope();
        var bytes = TextClassifierExporter.Export(encoder, pooling, head, ClassNames);
        encoder.eval();
        head.eval();
        Tensor logits;
        using (no_grad()) logits = head.forward(TextPoolingMath.Pool(encoder.forward(ids, mask, types), mask, pooling));
        var expectedIndex = logits.argmax(1).data<long>().ToArray();

        using var session = new InferenceSession(bytes);
        using var results = OnnxTestKit.RunTokens(session, ids, mask, types, TextClassifierExporter.ProbabilitiesOutput,
            TextClassifierExporter.PredictedIndexOutput, TextClassifierExporter.PredictedLabelOutput);
        Assert.Equal([ids.shape[0], ClassNames.Length], results[0].GetTensorTypeAndShape().Shape);
        Assert.Equal(expectedIndex, results[1].GetTensorDataAsSpan<long>().ToArray());
        Assert.Equal(expectedIndex.Select(i => ClassNames[i]), results[2].GetStringTensorAsArray());
        var probabilities = logits.softmax(1);
        Assert.True(probabilities.max().item<float>() > 0.6f, $"probabilities too close to uniform: {probabilities.max().item<float>()}");
        return OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), probabilities);
    }

    /// <summary>
    /// A 3-class head whose logits on this batch spread over several units. A default-initialised head gives
    /// logits of ~0.1 on these features and nearly uniform probabilities, which any graph would match.
    /// </summary>
    internal static ClassifierHead Head(BertEncoder encoder, TextPooling pooling, Tensor ids, Tensor mask, Tensor types, int seed)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        encoder.eval();
        double rms = TextPoolingMath.Pool(encoder.forward(ids, mask, types), mask, pooling).square().mean().sqrt().item<float>();
        var head = new ClassifierHead(encoder.Config.HiddenSize, ClassNames.Length, dropoutRate: 0.1);
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        // Logit standard deviation ≈ 4: weights N(0, (4 / (rms·√features))²).
        double scale = 4 / (rms * Math.Sqrt(encoder.Config.HiddenSize));
        head.Fc.weight!.copy_(randn(head.Fc.weight.shape, generator: generator).mul_(scale));
        head.Fc.bias!.copy_(randn(head.Fc.bias.shape, generator: generator).mul_(0.1));
        return head;
    }
}
