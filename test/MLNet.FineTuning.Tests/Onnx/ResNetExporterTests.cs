using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Onnx;

public class ResNetExporterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Write_RandomWeightsAndBatchNormStats_FeaturesMatchTorchSharp(bool bottleneck)
    {
        using var scope = NewDisposeScope();
        manual_seed(bottleneck ? 2 : 1);
        using var model = new ResNet(bottleneck, [1, 1, 1, 1]);
        OnnxTestKit.RandomizeBatchNorm(model);
        model.eval();
        var x = randn(2, 3, 64, 64);
        Tensor expected;
        using (no_grad()) expected = model.forward(x);

        var writer = new OnnxGraphWriter("resnet");
        string input = writer.AddInput("x", DataType.Float, "batch", 3, 64, 64);
        string features = ResNetExporter.Write(writer, model, input);
        writer.AddOutput(features, DataType.Float, "batch", model.FeatureCount);
        var bytes = writer.ToBytes();

        using var session = new InferenceSession(bytes);
        using var results = OnnxTestKit.Run(session, input, x, features);
        double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), expected);
        output.WriteLine($"bottleneck={bottleneck}: max |diff| (scaled) = {diff:E2}, max |feature| = {expected.abs().max().item<float>():G4}");
        Assert.True(diff < 1e-4, $"ONNX features differ from TorchSharp by {diff:E2}");
        Assert.Equal([2L, model.FeatureCount], results[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void Write_AnyResNet_FoldsEveryBatchNormIntoConv()
    {
        using var model = new ResNet(false, [1, 1, 1, 1]);
        var writer = new OnnxGraphWriter("resnet");
        string features = ResNetExporter.Write(writer, model, writer.AddInput("x", DataType.Float, "batch", 3, 64, 64));
        writer.AddOutput(features, DataType.Float, "batch", model.FeatureCount);
        var ops = writer.ToModel().Graph.Node.Select(n => n.OpType).ToList();

        Assert.DoesNotContain("BatchNormalization", ops);
        // stem + 2 per block + 3 downsample projections (layer2..4)
        Assert.Equal(1 + 4 * 2 + 3, ops.Count(o => o == "Conv"));
    }

    [Fact]
    public void Write_ModelInTrainingMode_LeavesModeAndWeightsUnchanged()
    {
        using var model = new ResNet(false, [1, 1, 1, 1]);
        model.train();
        using var before = model.Conv1.weight!.clone();
        var writer = new OnnxGraphWriter("resnet");
        ResNetExporter.Write(writer, model, writer.AddInput("x", DataType.Float, "batch", 3, 64, 64));

        Assert.True(model.training);
        Assert.True(model.Conv1.weight!.allclose(before, rtol: 0, atol: 0));
    }
}
