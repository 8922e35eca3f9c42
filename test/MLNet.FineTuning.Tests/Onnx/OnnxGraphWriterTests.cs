using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Onnx;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Tests.Onnx;

public class OnnxGraphWriterTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(null, 17, 8)]
    [InlineData(12, 12, 7)]
    public void ToModel_AnyGraph_PinsItsOpsetIrVersionDefaultDomainAndProducer(int? opset, int expectedOpset, long expectedIr)
    {
        var writer = opset is int o ? new OnnxGraphWriter("g", o) : new OnnxGraphWriter("g");
        writer.AddOutput(writer.Relu(writer.AddInput("x", DataType.Float, "batch", 2)), DataType.Float, "batch", 2);
        var model = writer.ToModel();

        var set = Assert.Single(model.OpsetImport);
        Assert.Equal("", set.Domain);
        Assert.Equal(expectedOpset, set.Version);
        Assert.Equal(expectedIr, model.IrVersion);
        Assert.Equal("MLNet.FineTuning", model.ProducerName);
        Assert.Equal("batch", model.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimParam);
    }

    [Fact]
    public void UniqueName_HintTaken_AppendsCounter()
    {
        var writer = new OnnxGraphWriter("g");
        string a = writer.AddFloatInitializer("w", [1f]);
        string b = writer.AddFloatInitializer("w", [2f]);
        string c = writer.AddFloatInitializer("w", [3f]);
        Assert.Equal(["w", "w_1", "w_2"], new[] { a, b, c });
    }

    [Fact]
    public void Op_UnknownInput_ThrowsNamingValue()
    {
        var writer = new OnnxGraphWriter("g");
        var e = Assert.Throws<ArgumentException>(() => writer.Relu("nowhere"));
        Assert.Contains("'nowhere'", e.Message);
    }

    [Fact]
    public void AddFloatInitializer_ShapeDoesNotFitData_Throws()
    {
        var writer = new OnnxGraphWriter("g");
        Assert.Throws<ArgumentException>(() => writer.AddFloatInitializer("w", [1f, 2f, 3f], 2, 2));
    }

    [Theory]
    [InlineData(OnnxGraphWriter.DefaultOpset)]
    [InlineData(OnnxGraphWriter.TextOpset)]
    public void TransformerOps_SmallGraph_MatchTorchSharp(int opset)
    {
        // The ops the BERT export needs, in one graph: embedding Gather, MatMul + Add, LayerNormalization,
        // erf-GELU, Transpose, masked Softmax via Equal/Unsqueeze/Where, Cast, Reshape.
        using var scope = NewDisposeScope();
        manual_seed(6);
        var emb = randn(10, 8); var w = randn(8, 8); var b = randn(8); var gamma = rand(8).add_(0.5); var beta = randn(8);
        var ids = tensor(new long[] { 1, 4, 9, 0, 3, 3, 7, 2 }).view(2, 4);
        var mask = tensor(new long[] { 1, 1, 1, 0, 1, 1, 0, 0 }).view(2, 4);

        var g = new OnnxGraphWriter("transformer_ops", opset);
        string idsIn = g.AddInput("ids", DataType.Int64, "batch", 4);
        string maskIn = g.AddInput("mask", DataType.Int64, "batch", 4);
        string h = g.Gather(g.AddTensorInitializer("emb", emb), idsIn);
        h = g.Add(g.MatMul(h, g.AddTensorInitializer("w", w)), g.AddTensorInitializer("b", b));
        h = g.LayerNormalization(h, g.AddTensorInitializer("gamma", gamma), g.AddTensorInitializer("beta", beta), 1e-12f);
        string erf = g.Erf(g.Div(h, g.AddFloatInitializer("sqrt2", [MathF.Sqrt(2f)])));
        h = g.Mul(g.Mul(h, g.AddFloatInitializer("half", [0.5f])), g.Add(erf, g.AddFloatInitializer("one", [1f])));
        string scores = g.MatMul(h, g.Transpose(h, [0, 2, 1]));
        string masked = g.Unsqueeze(g.Equal(maskIn, g.AddInt64Initializer("zero", [0])), [1]);
        scores = g.Where(masked, g.AddFloatInitializer("neg", [-1e4f]), scores);
        string probs = g.Reshape(g.Softmax(scores, -1), g.AddInt64Initializer("flat", [0, -1], 2), output: "probs");
        g.Cast(maskIn, DataType.Float, output: "mask_float");
        g.AddOutput(probs, DataType.Float, "batch", 16);
        g.AddOutput("mask_float", DataType.Float, "batch", 4);

        var hRef = nn.functional.layer_norm(emb[ids].matmul(w).add(b), [8], gamma, beta, 1e-12);
        hRef = nn.functional.gelu(hRef);
        var sRef = hRef.matmul(hRef.transpose(1, 2)).masked_fill(mask.eq(0).unsqueeze(1), -1e4f);
        var expected = sRef.softmax(-1).reshape(2, 16);

        using var session = new InferenceSession(g.ToBytes());
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids.data<long>().ToArray(), [2, 4]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask.data<long>().ToArray(), [2, 4]);
        using var options = new RunOptions();
        using var results = session.Run(options, new Dictionary<string, OrtValue> { ["ids"] = idsValue, ["mask"] = maskValue },
            ["probs", "mask_float"]);
        double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), expected);
        output.WriteLine($"transformer ops: max |diff| = {diff:E2}");
        Assert.True(diff < 1e-5, $"differs from TorchSharp by {diff:E2}");
        Assert.Equal([1f, 1, 1, 0, 1, 1, 0, 0], results[1].GetTensorDataAsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData(OnnxGraphWriter.DefaultOpset)]
    [InlineData(OnnxGraphWriter.TextOpset)]
    public void ShapeSliceReduceOps_SymbolicSequence_MatchTorchSharp(int opset)
    {
        // The ops the text export adds: the position table sliced by the run-time sequence length
        // (Shape + Slice), masked mean pooling (ReduceSum, Max), and Tanh for the tanh-GELU.
        using var scope = NewDisposeScope();
        manual_seed(7);
        var table = randn(6, 3);
        var x = randn(2, 4, 3);
        var mask = tensor(new float[] { 1, 1, 1, 0, 0, 0, 0, 0 }).view(2, 4);

        var g = new OnnxGraphWriter("shape_ops", opset);
        string xIn = g.AddInput("x", DataType.Float, "batch", "sequence", 3);
        string maskIn = g.AddInput("mask", DataType.Float, "batch", "sequence");
        string zero = g.AddInt64Initializer("zero", [0], 1);
        string length = g.Slice(g.Shape(xIn), g.AddInt64Initializer("one", [1], 1), g.AddInt64Initializer("two", [2], 1));
        string positions = g.Slice(g.AddTensorInitializer("table", table), zero, length, axes: zero);
        string h = g.Tanh(g.Add(xIn, positions));
        string sum = g.ReduceSum(g.Mul(h, g.Unsqueeze(maskIn, [2])), [1], keepDims: false);
        string count = g.Max(g.ReduceSum(maskIn, [1], keepDims: true), g.AddFloatInitializer("floor", [1e-9f]));
        string pooled = g.Div(sum, count, output: "pooled");
        g.AddOutput(pooled, DataType.Float, "batch", 3);

        var hRef = x.add(table[..4]).tanh();
        var expected = hRef.mul(mask.unsqueeze(-1)).sum(1).div(mask.sum(1, keepdim: true).clamp_min(1e-9));

        using var session = new InferenceSession(g.ToBytes());
        using var xValue = OrtValue.CreateTensorValueFromMemory(x.data<float>().ToArray(), [2, 4, 3]);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask.data<float>().ToArray(), [2, 4]);
        using var options = new RunOptions();
        using var results = session.Run(options, new Dictionary<string, OrtValue> { ["x"] = xValue, ["mask"] = maskValue }, [pooled]);
        double diff = OnnxTestKit.ScaledMaxDiff(results[0].GetTensorDataAsSpan<float>(), expected);
        output.WriteLine($"shape ops: max |diff| = {diff:E2}");
        Assert.True(diff < 1e-6, $"differs from TorchSharp by {diff:E2}");
        // The all-padding row pools to zeros, not NaN.
        Assert.Equal([0f, 0f, 0f], results[0].GetTensorDataAsSpan<float>()[3..].ToArray());
    }
}
