using Microsoft.ML.OnnxRuntime;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Runtime.Text;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>How every benchmark opens ONNX Runtime and feeds it a tokenized text batch, so the CPU and GPU modes
/// measure the same thing: full graph optimisation, the given intra-op threads, one inter-op thread.</summary>
internal static class OnnxSessions
{
    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    private static readonly string[] TextOutputs = [TextClassifierExporter.ProbabilitiesOutput];

    /// <summary>One padded batch through the text classifier's ONNX graph → class probabilities [n·K].</summary>
    public static float[] RunText(InferenceSession session, RunOptions runOptions, BertBatch b)
    {
        using var ids = OrtValue.CreateTensorValueFromMemory(b.InputIds, b.Shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(b.AttentionMask, b.Shape);
        using var types = OrtValue.CreateTensorValueFromMemory(b.TokenTypeIds, b.Shape);
        using var result = session.Run(runOptions, new Dictionary<string, OrtValue>
        {
            [BertExporter.InputIdsInput] = ids, [BertExporter.AttentionMaskInput] = mask, [BertExporter.TokenTypeIdsInput] = types,
        }, TextOutputs);
        return result[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
