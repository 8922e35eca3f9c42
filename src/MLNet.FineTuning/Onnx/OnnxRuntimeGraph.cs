using Microsoft.ML.OnnxRuntime;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// What ONNX Runtime actually runs for an exported model: the node counts of the graph after its optimizer. The
/// exporters write standard ops and rely on ONNX Runtime to fuse them (docs/text-saved-model.md, "ONNX Runtime's
/// view of the graph"), so a fusion that silently stops matching shows up here, not as an error. Used by the tests
/// and the benchmark.
/// </summary>
internal static class OnnxRuntimeGraph
{
    /// <summary>
    /// Loads <paramref name="model"/> on the CPU provider at <paramref name="level"/>, saves the optimized graph to a
    /// temporary file and counts its nodes by op type, <c>domain:op</c> outside the default domain
    /// (<c>com.microsoft:Attention</c>).
    /// </summary>
    /// <param name="model">The serialised ONNX model.</param>
    /// <param name="level">
    /// Default <see cref="GraphOptimizationLevel.ORT_ENABLE_EXTENDED"/>: every fusion of ORT_ENABLE_ALL (what a
    /// default <see cref="SessionOptions"/>, and so ML.NET's OnnxTransformer, uses) without the hardware-specific
    /// layout changes that ONNX Runtime warns about when such a graph is saved.
    /// </param>
    public static IReadOnlyDictionary<string, int> OptimizedOpCounts(byte[] model,
        GraphOptimizationLevel level = GraphOptimizationLevel.ORT_ENABLE_EXTENDED)
    {
        ArgumentNullException.ThrowIfNull(model);
        string path = Path.Combine(Path.GetTempPath(), $"mlnet-finetuning-optimized-{Guid.NewGuid():N}.onnx");
        try
        {
            using (var options = new SessionOptions { GraphOptimizationLevel = level, OptimizedModelFilePath = path })
            using (new InferenceSession(model, options)) { }
            var graph = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)).Graph;
            return graph.Node.GroupBy(n => n.Domain is "" or "ai.onnx" ? n.OpType : $"{n.Domain}:{n.OpType}")
                .ToDictionary(g => g.Key, g => g.Count());
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>"Op count" pairs, most frequent first (ties by name), for messages and reports.</summary>
    public static string Describe(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key} {c.Value}"));
}
