using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Onnx;

/// <summary>Shared helpers for the exporter tests: random BatchNorm statistics, ONNX Runtime runs, diffs.</summary>
internal static class OnnxTestKit
{
    /// <summary>
    /// Gives every BatchNorm2d random running statistics and affine parameters. Fresh modules have
    /// mean 0, var 1, γ 1, β 0, where a wrong BatchNorm fold still gives the right answer.
    /// </summary>
    public static void RandomizeBatchNorm(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is not BatchNorm2d bn) continue;
            bn.running_mean!.uniform_(-0.5, 0.5);
            bn.running_var!.uniform_(0.5, 2.0);
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-0.5, 0.5);
        }
    }

    /// <summary>Runs one float input through a model and returns the named outputs (caller disposes).</summary>
    public static IDisposableReadOnlyCollection<OrtValue> Run(InferenceSession session, string input, Tensor x, params string[] outputs)
    {
        using var scope = NewDisposeScope();   // holds to(float32)'s result through contiguous()
        using var cpu = x.to(float32).contiguous();
        using var value = OrtValue.CreateTensorValueFromMemory(cpu.data<float>().ToArray(), cpu.shape);
        using var options = new RunOptions();
        return session.Run(options, new Dictionary<string, OrtValue> { [input] = value }, outputs);
    }

    /// <summary>Runs BERT's three int64 [batch, sequence] inputs through a model and returns the named outputs (caller disposes).</summary>
    public static IDisposableReadOnlyCollection<OrtValue> RunTokens(InferenceSession session, Tensor ids, Tensor mask, Tensor types,
        params string[] outputs)
    {
        OrtValue Value(Tensor t)
        {
            using var scope = NewDisposeScope();   // holds to(int64)'s result through contiguous()
            using var cpu = t.to(int64).contiguous();
            return OrtValue.CreateTensorValueFromMemory(cpu.data<long>().ToArray(), cpu.shape);
        }
        using var idsValue = Value(ids);
        using var maskValue = Value(mask);
        using var typesValue = Value(types);
        using var options = new RunOptions();
        return session.Run(options, new Dictionary<string, OrtValue>
        {
            [BertExporter.InputIdsInput] = idsValue,
            [BertExporter.AttentionMaskInput] = maskValue,
            [BertExporter.TokenTypeIdsInput] = typesValue,
        }, outputs);
    }

    /// <summary>
    /// max |onnx − reference| divided by max(1, max |reference|): absolute for values of order one, relative
    /// for large ones, where float32 rounding grows with the magnitude.
    /// </summary>
    public static double ScaledMaxDiff(ReadOnlySpan<float> onnx, Tensor reference)
    {
        using var scope = NewDisposeScope();   // holds to(float32)'s result through contiguous()
        using var refCpu = reference.to(float32).contiguous();
        var expected = refCpu.data<float>().ToArray();
        Assert.Equal(expected.Length, onnx.Length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            maxDiff = Math.Max(maxDiff, Math.Abs(onnx[i] - expected[i]));
            maxRef = Math.Max(maxRef, Math.Abs(expected[i]));
        }
        return maxDiff / Math.Max(1.0, maxRef);
    }
}
