using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// A read-only view of an ONNX graph for weight mapping: who consumes each tensor, and bookkeeping of
/// the nodes visited and the initializers taken, so that a mapper can prove it explained every node and
/// used every weight exactly once.
/// </summary>
internal sealed class OnnxGraph
{
    private readonly GraphProto graph;
    private readonly Dictionary<string, TensorProto> initializers;
    private readonly Dictionary<string, List<NodeProto>> consumers = [];
    private readonly HashSet<string> taken = [];
    private readonly HashSet<NodeProto> visited = new(ReferenceEqualityComparer.Instance);

    /// <param name="graph">The graph to read.</param>
    /// <param name="origin">Names the file in error messages.</param>
    public OnnxGraph(GraphProto graph, string origin)
    {
        this.graph = graph;
        Origin = origin;
        initializers = [];
        foreach (var t in graph.Initializer)
            if (!initializers.TryAdd(t.Name, t)) throw Error($"initializer '{t.Name}' appears twice.");
        foreach (var node in graph.Node)
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
    }

    /// <summary>Parses an ONNX model; a damaged or truncated one is reported as such, naming <paramref name="origin"/>.</summary>
    /// <exception cref="InvalidDataException">Not a readable ONNX model.</exception>
    public static ModelProto ReadModel(Stream stream, string origin)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{origin}' is not a readable ONNX model (damaged or truncated?): {e.Message}", e);
        }
    }

    /// <summary>The file the graph came from.</summary>
    public string Origin { get; }

    /// <summary>The one graph input that is not an initializer (IR 3 files list initializers as inputs too).</summary>
    public ValueInfoProto Input =>
        graph.Input.Where(i => !initializers.ContainsKey(i.Name)).ToArray() is [var only]
            ? only
            : throw Error("expected exactly one non-initializer graph input.");

    /// <summary>Whether <paramref name="tensor"/> is one of the graph's outputs.</summary>
    public bool IsOutput(string tensor) => graph.Output.Any(o => o.Name == tensor);

    /// <summary>Whether the graph has an initializer called <paramref name="name"/>.</summary>
    public bool HasInitializer(string name) => initializers.ContainsKey(name);

    /// <summary>The node that writes <paramref name="tensor"/>, or null for graph inputs and initializers.</summary>
    public NodeProto? Producer(string tensor) => graph.Node.FirstOrDefault(n => n.Output.Contains(tensor));

    /// <summary>Initializers of <paramref name="dataType"/> that no weight has taken yet, in file order.</summary>
    public IReadOnlyList<string> Untaken(TensorProto.Types.DataType dataType) =>
        graph.Initializer.Where(t => t.DataType == (int)dataType && !taken.Contains(t.Name)).Select(t => t.Name).ToList();

    /// <summary>Nodes that read <paramref name="tensor"/>.</summary>
    public IReadOnlyList<NodeProto> Consumers(string tensor) =>
        consumers.TryGetValue(tensor, out var list) ? list : [];

    /// <summary>The only node that reads <paramref name="tensor"/>; it must be one of <paramref name="opTypes"/>.</summary>
    public NodeProto Next(string tensor, params string[] opTypes)
    {
        var readers = Consumers(tensor);
        if (readers.Count != 1 || !opTypes.Contains(readers[0].OpType))
            throw Error($"expected one {string.Join(" or ", opTypes)} to read '{tensor}', found " +
                        (readers.Count == 0 ? "none" : string.Join(", ", readers.Select(Describe))) + ".");
        return readers[0];
    }

    /// <summary>Marks a node as explained by the mapping; a node explained twice is an error.</summary>
    public void Visit(NodeProto node)
    {
        if (!visited.Add(node)) throw Error($"{Describe(node)} was mapped twice.");
    }

    /// <summary>Takes a float initializer as a tensor; each initializer may be taken once.</summary>
    public Tensor TakeFloat(string name)
    {
        if (!initializers.TryGetValue(name, out var t)) throw Error($"'{name}' is not an initializer.");
        if (!taken.Add(name)) throw Error($"initializer '{name}' is used by two weights.");
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw Error($"initializer '{name}' has data type {t.DataType}, expected FLOAT (1).");
        if (t.DataLocation == TensorProto.Types.DataLocation.External)
            throw Error($"initializer '{name}' is stored outside the file; only embedded weights are supported.");
        long count = t.Dims.Aggregate(1L, (a, d) => a * d);
        // ONNX stores either typed values or little-endian raw bytes; CNTK writes float_data.
        float[] data = t.FloatData.Count > 0 ? [.. t.FloatData]
            : BitConverter.IsLittleEndian ? MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray()
            : throw Error("raw initializer data on a big-endian machine is not supported.");
        if (data.Length != count)
            throw Error($"initializer '{name}' has {data.Length} values for shape [{string.Join(",", t.Dims)}].");
        return tensor(data, [.. t.Dims]);
    }

    /// <summary>Throws, listing them, if any node was not explained or any initializer not used.</summary>
    public void CheckAllMapped()
    {
        var nodes = graph.Node.Where(n => !visited.Contains(n)).Select(Describe).ToList();
        var weights = initializers.Keys.Where(k => !taken.Contains(k)).ToList();
        if (nodes.Count == 0 && weights.Count == 0) return;
        throw Error("the graph has parts the network does not: " +
                    (nodes.Count > 0 ? $"unmapped nodes ({nodes.Count}): {string.Join(", ", nodes)}. " : "") +
                    (weights.Count > 0 ? $"unmapped initializers ({weights.Count}): {string.Join(", ", weights)}." : ""));
    }

    /// <summary>An integer-list attribute, or <paramref name="fallback"/> when absent (the ONNX default).</summary>
    public static long[] Ints(NodeProto node, string name, long[] fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? [.. a.Ints] : fallback;

    /// <summary>An integer attribute, or <paramref name="fallback"/> when absent.</summary>
    public static long Int(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.I ?? fallback;

    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    public static float Float(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.F ?? fallback;

    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    public static string String(NodeProto node, string name, string fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name)?.S.ToStringUtf8() ?? fallback;

    /// <summary>"OpType 'name' → first output" for messages (CNTK leaves names empty).</summary>
    public static string Describe(NodeProto node) =>
        (node.Name.Length > 0 ? $"{node.OpType} '{node.Name}'" : node.OpType) +
        $" → {(node.Output.Count > 0 ? node.Output[0] : "?")}";

    /// <summary>An error that names the file.</summary>
    public InvalidDataException Error(string message) => new($"ONNX model '{Origin}': {message}");
}
