using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Onnx;

public class ClassifierHeadExporterTests(ITestOutputHelper output)
{
    [Fact]
    public void Write_LinearHead_LogitsMatchTorchSharpInEvalMode()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var head = new ClassifierHead(32, 5, dropoutRate: 0.5);
        head.eval();
        var x = randn(4, 32);
        Tensor expected;
        using (no_grad()) expected = head.forward(x);

        var writer = new OnnxGraphWriter("head");
        string input = writer.AddInput("features", DataType.Float, "batch", 32);
        string logits = ClassifierHeadExporter.Write(writer, head, input, "logits");
        writer.AddOutput(logits, DataType.Float, "batch", 5);

        using var session = new InferenceSession(writer.ToBytes());
        using var results = OnnxTestKit.Run(session, input, x, logits);
        double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), expected);
        output.WriteLine($"head: max |diff| (scaled) = {diff:E2}");
        Assert.True(diff < 1e-5, $"ONNX logits differ from TorchSharp by {diff:E2}");
    }
}
