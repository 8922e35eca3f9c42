using System.Runtime.InteropServices;
using Google.Protobuf;
// global:: because this folder's namespace, MLNet.FineTuning.Onnx, hides OnnxSharp's "Onnx" inside MLNet.FineTuning.
using global::Onnx;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// The one ONNX writer of this library: builds a single graph in the default domain, one typed method per
/// operator. Each op method returns the name of the value it produces, so a network reads as nested calls
/// (<c>w.Relu(w.Conv(x, ...))</c>). TorchSharp cannot trace or export C# modules (it has no torch.jit.trace or torch.onnx.export for them), so every
/// exporter writes its graph through this class.
/// </summary>
/// <remarks>
/// Names are checked as the graph grows: an op that reads a value nobody produced fails at the call that
/// made the mistake, not later inside ONNX Runtime's loader. Not thread-safe; one writer per export.
/// </remarks>
internal sealed class OnnxGraphWriter
{
    /// <summary>
    /// The opset of the image graphs (and the default): 17, the first with <c>LayerNormalization</c> in the default
    /// domain, supported by ONNX Runtime since 1.12.
    /// </summary>
    public const int DefaultOpset = 17;

    /// <summary>
    /// The opset of the text graphs: 12, because of ONNX Runtime's graph optimizer. Its in-session attention fusion
    /// (<c>AttentionFusion</c>, which turns a BERT layer's Q/K/V projections, scores, mask and softmax into one
    /// <c>com.microsoft.Attention</c> kernel) matches the mask path only with the <c>Unsqueeze</c> of opsets 1–12
    /// (axes as an attribute). Checked with ONNX Runtime 1.31 on the MiniLM-L6 export: opset 12 gives 6 Attention
    /// nodes, opsets 13 and 17 none (docs/text-saved-model.md, "ONNX Runtime's view of the graph"). Opset 12 has no
    /// <c>LayerNormalization</c>; <see cref="LayerNormalization"/> then writes the nine-op form that ONNX Runtime
    /// fuses back into one kernel.
    /// </summary>
    public const int TextOpset = 12;

    /// <summary>Written into <c>ModelProto.producer_name</c>.</summary>
    public const string ProducerName = "MLNet.FineTuning";

    private readonly GraphProto graph;
    private readonly HashSet<string> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> hintCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<float, string> scalars = [];
    private readonly List<(string Key, string Value)> metadata = [];

    /// <summary>Starts an empty graph.</summary>
    /// <param name="graphName">The graph's name (shown by viewers such as Netron).</param>
    /// <param name="opset">Default-domain opset: <see cref="DefaultOpset"/> or <see cref="TextOpset"/> (the ops whose
    /// form changed in between are written in the form of the chosen one).</param>
    public OnnxGraphWriter(string graphName, int opset = DefaultOpset)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(graphName);
        if (opset is not (DefaultOpset or TextOpset))
            throw new ArgumentOutOfRangeException(nameof(opset), opset, $"Opset {DefaultOpset} or {TextOpset}.");
        graph = new GraphProto { Name = graphName };
        Opset = opset;
    }

    /// <summary>The default-domain opset this graph is written for.</summary>
    public int Opset { get; }

    /// <summary>IR version 8 for opset 17 (ONNX 1.12), 7 for opset 12 (ONNX 1.7): what those releases write.</summary>
    public long IrVersion => Opset >= 17 ? 8 : 7;

    /// <summary>
    /// A value name not yet used in this graph: <paramref name="hint"/> itself if free, else
    /// <c>hint_1</c>, <c>hint_2</c>, … The name is not reserved until something produces it.
    /// </summary>
    public string UniqueName(string hint)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(hint);
        if (!values.Contains(hint)) return hint;
        hintCounts.TryGetValue(hint, out int n);
        string name;
        do name = $"{hint}_{++n}"; while (values.Contains(name));
        hintCounts[hint] = n;
        return name;
    }

    /// <summary>Declares a graph input. Dimensions may be fixed or symbolic (<c>"batch"</c>).</summary>
    /// <returns>The input's name, for use by ops.</returns>
    public string AddInput(string name, DataType type, params OnnxDim[] shape)
    {
        graph.Input.Add(ValueInfo(Claim(name), type, shape));
        return name;
    }

    /// <summary>Declares an already produced value (give the op its name) as a graph output.</summary>
    public void AddOutput(string name, DataType type, params OnnxDim[] shape)
    {
        Require(name);
        if (graph.Output.Any(o => o.Name == name))
            throw new ArgumentException($"'{name}' is already a graph output.", nameof(name));
        graph.Output.Add(ValueInfo(name, type, shape));
    }

    /// <summary>Adds a float32 initializer copied from a TorchSharp tensor (any dtype or device; the shape is kept).</summary>
    /// <returns>The initializer's unique name, derived from <paramref name="hint"/>.</returns>
    public string AddTensorInitializer(string hint, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().to(ScalarType.Float32, CPU).contiguous();
        return AddFloatInitializer(hint, cpu.data<float>().ToArray(), cpu.shape);
    }

    /// <summary>Adds a float32 initializer; an empty <paramref name="shape"/> makes a scalar.</summary>
    /// <returns>The initializer's unique name, derived from <paramref name="hint"/>.</returns>
    public string AddFloatInitializer(string hint, float[] data, params long[] shape)
    {
        var t = Initializer(hint, DataType.Float, data.Length, shape);
        // raw_data is little-endian by the ONNX spec and is what other exporters write; float_data is
        // the portable fallback for a big-endian host.
        if (BitConverter.IsLittleEndian) t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        else t.FloatData.AddRange(data);
        return t.Name;
    }

    /// <summary>Adds an int64 initializer (indices, shapes, axes); an empty <paramref name="shape"/> makes a scalar.</summary>
    /// <returns>The initializer's unique name, derived from <paramref name="hint"/>.</returns>
    public string AddInt64Initializer(string hint, long[] data, params long[] shape)
    {
        var t = Initializer(hint, DataType.Int64, data.Length, shape);
        t.Int64Data.AddRange(data);
        return t.Name;
    }

    /// <summary>Adds an int8 initializer (quantized weights); an empty <paramref name="shape"/> makes a scalar.</summary>
    /// <returns>The initializer's unique name, derived from <paramref name="hint"/>.</returns>
    public string AddInt8Initializer(string hint, sbyte[] data, params long[] shape)
    {
        var t = Initializer(hint, DataType.Int8, data.Length, shape);
        // raw_data holds one byte per value; int32_data would take four (and protobuf varints for negatives, ten).
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan()));
        return t.Name;
    }

    /// <summary>Adds a UTF-8 string initializer (e.g. class names); an empty <paramref name="shape"/> makes a scalar.</summary>
    /// <returns>The initializer's unique name, derived from <paramref name="hint"/>.</returns>
    public string AddStringInitializer(string hint, IReadOnlyList<string> data, params long[] shape)
    {
        var t = Initializer(hint, DataType.String, data.Count, shape);
        foreach (var s in data) t.StringData.Add(ByteString.CopyFromUtf8(s));
        return t.Name;
    }

    /// <summary>2-D convolution. <paramref name="pads"/> in ONNX order: all begins, then all ends ([top, left, bottom, right]).</summary>
    public string Conv(string x, string weight, string? bias, long[] strides, long[] pads, long[]? dilations = null,
        long group = 1, string? output = null) =>
        Node("Conv", bias is null ? [x, weight] : [x, weight, bias], output,
            Ints("strides", strides), Ints("pads", pads), Ints("dilations", dilations ?? strides.Select(_ => 1L).ToArray()),
            Int("group", group));

    /// <summary>Max pooling; <paramref name="pads"/> in ONNX order (begins, then ends).</summary>
    public string MaxPool(string x, long[] kernelShape, long[] strides, long[] pads, string? output = null) =>
        Node("MaxPool", [x], output, Ints("kernel_shape", kernelShape), Ints("strides", strides), Ints("pads", pads));

    /// <summary>Mean over all spatial axes: [N,C,H,W] → [N,C,1,1].</summary>
    public string GlobalAveragePool(string x, string? output = null) => Node("GlobalAveragePool", [x], output);

    /// <summary>Flattens to 2-D: dimensions before <paramref name="axis"/> form the rows, the rest the columns.</summary>
    public string Flatten(string x, long axis = 1, string? output = null) => Node("Flatten", [x], output, Int("axis", axis));

    /// <summary>max(x, 0).</summary>
    public string Relu(string x, string? output = null) => Node("Relu", [x], output);

    /// <summary>1 / (1 + e^−x), elementwise.</summary>
    public string Sigmoid(string x, string? output = null) => Node("Sigmoid", [x], output);

    /// <summary>The error function (for exact GELU: 0.5·x·(1 + erf(x/√2))).</summary>
    public string Erf(string x, string? output = null) => Node("Erf", [x], output);

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)) (torch's default <c>gelu</c>), as the five ops Div, Erf, Add, Mul, Mul
    /// that ONNX Runtime's <c>GeluFusion</c> turns into one kernel (the default domain has no Gelu before opset 20).</summary>
    public string Gelu(string x) => Mul(Mul(x, Add(Erf(Div(x, Scalar(MathF.Sqrt(2f)))), Scalar(1f))), Scalar(0.5f));

    /// <summary>tanh(x) (for the tanh approximation of GELU).</summary>
    public string Tanh(string x, string? output = null) => Node("Tanh", [x], output);

    /// <summary>a + b, NumPy broadcasting.</summary>
    public string Add(string a, string b, string? output = null) => Node("Add", [a, b], output);

    /// <summary>a − b, NumPy broadcasting.</summary>
    public string Sub(string a, string b, string? output = null) => Node("Sub", [a, b], output);

    /// <summary>a · b elementwise, NumPy broadcasting.</summary>
    public string Mul(string a, string b, string? output = null) => Node("Mul", [a, b], output);

    /// <summary>a / b elementwise, NumPy broadcasting.</summary>
    public string Div(string a, string b, string? output = null) => Node("Div", [a, b], output);

    /// <summary>max(a, b) elementwise, NumPy broadcasting.</summary>
    public string Max(string a, string b, string? output = null) => Node("Max", [a, b], output);

    /// <summary>Matrix product with NumPy batching (any rank ≥ 1).</summary>
    public string MatMul(string a, string b, string? output = null) => Node("MatMul", [a, b], output);

    /// <summary>alpha·A'·B' + beta·C on 2-D A and B, where ' transposes when asked.</summary>
    public string Gemm(string a, string b, string? c, bool transA = false, bool transB = false,
        float alpha = 1f, float beta = 1f, string? output = null) =>
        Node("Gemm", c is null ? [a, b] : [a, b, c], output,
            Int("transA", transA ? 1 : 0), Int("transB", transB ? 1 : 0), Float("alpha", alpha), Float("beta", beta));

    /// <summary>
    /// Quantizes float <paramref name="x"/> to uint8 at run time (opset 11): scale = (max(0, x) − min(0, x))/255 over the
    /// whole tensor, zero point = round(−min/scale).
    /// </summary>
    /// <returns>Names of the uint8 values, the float scalar scale and the uint8 scalar zero point.</returns>
    public (string Quantized, string Scale, string ZeroPoint) DynamicQuantizeLinear(string x)
    {
        string[] outputs = [UniqueName("quantized"), UniqueName("quantized_scale"), UniqueName("quantized_zero_point")];
        MultiOutputNode("DynamicQuantizeLinear", [x], outputs);
        return (outputs[0], outputs[1], outputs[2]);
    }

    /// <summary>
    /// Integer matrix product with NumPy batching (opset 10): (a − aZeroPoint)·(b − bZeroPoint) in int32. A zero point
    /// left null is 0.
    /// </summary>
    public string MatMulInteger(string a, string b, string? aZeroPoint, string? bZeroPoint = null, string? output = null) =>
        Node("MatMulInteger", bZeroPoint is null ? aZeroPoint is null ? [a, b] : [a, b, aZeroPoint] : [a, b, aZeroPoint ?? "", bZeroPoint], output);

    /// <summary>
    /// Softmax along the last axis, which <paramref name="axis"/> must name. (Opsets before 13 flatten the axes from
    /// <paramref name="axis"/> on into one, so any other axis would normalise over several.)
    /// </summary>
    public string Softmax(string x, long axis = -1, string? output = null) => Node("Softmax", [x], output, Int("axis", axis));

    /// <summary>Index of the largest value along <paramref name="axis"/> (int64; the first one on ties).</summary>
    public string ArgMax(string x, long axis, bool keepDims, string? output = null) =>
        Node("ArgMax", [x], output, Int("axis", axis), Int("keepdims", keepDims ? 1 : 0), Int("select_last_index", 0));

    /// <summary>Picks entries of <paramref name="data"/> along <paramref name="axis"/> by int64 <paramref name="indices"/>.</summary>
    public string Gather(string data, string indices, long axis = 0, string? output = null) =>
        Node("Gather", [data, indices], output, Int("axis", axis));

    /// <summary>Reshape to the int64 shape tensor <paramref name="shape"/> (0 copies a dimension, −1 infers one).</summary>
    public string Reshape(string x, string shape, string? output = null) => Node("Reshape", [x, shape], output);

    /// <summary>Joins the inputs along <paramref name="axis"/> (the other dimensions must agree).</summary>
    public string Concat(string[] inputs, long axis, string? output = null) => Node("Concat", inputs, output, Int("axis", axis));

    /// <summary>Broadcasts <paramref name="x"/> to the int64 shape tensor <paramref name="shape"/> (NumPy rules; a 1 in
    /// <paramref name="shape"/> keeps x's dimension).</summary>
    public string Expand(string x, string shape, string? output = null) => Node("Expand", [x, shape], output);

    /// <summary>Permutes the axes.</summary>
    public string Transpose(string x, long[] perm, string? output = null) => Node("Transpose", [x], output, Ints("perm", perm));

    /// <summary>Converts the element type.</summary>
    public string Cast(string x, DataType to, string? output = null) => Node("Cast", [x], output, Int("to", (long)to));

    /// <summary>Inserts size-1 axes at the positions <paramref name="axes"/> of the output (an attribute up to opset 12).</summary>
    public string Unsqueeze(string x, long[] axes, string? output = null) => Opset >= 13
        ? Node("Unsqueeze", [x, AddInt64Initializer("unsqueeze_axes", axes, axes.Length)], output)
        : Node("Unsqueeze", [x], output, Ints("axes", axes));

    /// <summary>a == b elementwise (bool), NumPy broadcasting.</summary>
    public string Equal(string a, string b, string? output = null) => Node("Equal", [a, b], output);

    /// <summary>a ≥ b elementwise (bool), NumPy broadcasting (opset 12 and up).</summary>
    public string GreaterOrEqual(string a, string b, string? output = null) => Node("GreaterOrEqual", [a, b], output);

    /// <summary>condition ? x : y elementwise, NumPy broadcasting.</summary>
    public string Where(string condition, string x, string y, string? output = null) => Node("Where", [condition, x, y], output);

    /// <summary>
    /// The shape of <paramref name="x"/> as a 1-D int64 tensor: how a graph with symbolic axes reads a size it needs
    /// at run time (<see cref="Slice"/> then picks one dimension, e.g. the sequence length for the position table).
    /// </summary>
    public string Shape(string x, string? output = null) => Node("Shape", [x], output);

    /// <summary>
    /// data[starts:ends] along <paramref name="axes"/> (all axes in order when null), step 1. Bounds are 1-D
    /// int64 tensors, given as inputs since opset 10, so they may be computed in the graph (from
    /// <see cref="Shape"/>); ends past a dimension are clamped to it.
    /// </summary>
    public string Slice(string data, string starts, string ends, string? axes = null, string? output = null) =>
        Node("Slice", axes is null ? [data, starts, ends] : [data, starts, ends, axes], output);

    /// <summary>Sum over <paramref name="axes"/> (an attribute up to opset 12).</summary>
    public string ReduceSum(string x, long[] axes, bool keepDims, string? output = null) => Opset >= 13
        ? Node("ReduceSum", [x, AddInt64Initializer("reduce_axes", axes, axes.Length)], output, Int("keepdims", keepDims ? 1 : 0))
        : Node("ReduceSum", [x], output, Ints("axes", axes), Int("keepdims", keepDims ? 1 : 0));

    /// <summary>
    /// Layer normalisation over the last axis, then scale and bias: (x − mean)/√(var + ε)·scale + bias with the biased
    /// variance, as torch's <c>layer_norm</c>. Opset 12 has no LayerNormalization op, so this writes the nine ops
    /// ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add: the form PyTorch's exports before opset 17 use,
    /// which ONNX Runtime's <c>LayerNormFusion</c> turns back into one LayerNormalization kernel (ε taken from
    /// the Add).
    /// </summary>
    public string LayerNormalization(string x, string scale, string bias, float epsilon = 1e-5f, string? output = null)
    {
        if (Opset >= 17)
            return Node("LayerNormalization", [x, scale, bias], output, Int("axis", -1), Float("epsilon", epsilon));
        string mean = Node("ReduceMean", [x], null, Ints("axes", [-1]), Int("keepdims", 1));
        string centred = Sub(x, mean);
        string variance = Node("ReduceMean", [Node("Pow", [centred, Scalar(2f)], null)], null, Ints("axes", [-1]), Int("keepdims", 1));
        string normalised = Div(centred, Node("Sqrt", [Add(variance, Scalar(epsilon))], null));
        return Add(Mul(normalised, scale), bias, output);
    }

    /// <summary>Sets a <c>metadata_props</c> entry of the model (what ONNX Runtime's <c>CustomMetadataMap</c> returns);
    /// entries are written in the order they were first set, so the bytes repeat.</summary>
    public void SetMetadata(string key, string value)
    {
        int i = metadata.FindIndex(e => e.Key == key);
        if (i >= 0) metadata[i] = (key, value);
        else metadata.Add((key, value));
    }

    /// <summary>The finished model: a copy of the graph, opset <see cref="Opset"/>, producer <see cref="ProducerName"/>,
    /// the metadata set with <see cref="SetMetadata"/>.</summary>
    /// <exception cref="InvalidOperationException">No output was declared.</exception>
    public ModelProto ToModel()
    {
        if (graph.Output.Count == 0) throw new InvalidOperationException($"Graph '{graph.Name}' has no outputs; call AddOutput.");
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxGraphWriter).Assembly.GetName().Version?.ToString() ?? "",
            Graph = graph.Clone(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    /// <summary>Serialises <see cref="ToModel"/> to <paramref name="stream"/> (protobuf, the .onnx format).</summary>
    public void WriteTo(Stream stream) => ToModel().WriteTo(stream);

    /// <summary>Serialises <see cref="ToModel"/> to bytes.</summary>
    public byte[] ToBytes() => ToModel().ToByteArray();

    private string Node(string opType, string[] inputs, string? output, params AttributeProto[] attributes)
    {
        string name = output is null ? UniqueName(opType.ToLowerInvariant()) : output;
        MultiOutputNode(opType, inputs, [name], attributes);
        return name;
    }

    private void MultiOutputNode(string opType, string[] inputs, string[] outputs, params AttributeProto[] attributes)
    {
        // "" is ONNX's way to leave an optional input out when a later one is given.
        foreach (var input in inputs) if (input.Length > 0) Require(input);
        var node = new NodeProto { OpType = opType, Name = $"{opType}_{graph.Node.Count}", Domain = "" };
        node.Input.AddRange(inputs);
        foreach (var output in outputs) node.Output.Add(Claim(output));
        node.Attribute.AddRange(attributes);
        graph.Node.Add(node);
    }

    /// <summary>One float initializer [1] per value, shared by the composite ops that need constants.</summary>
    private string Scalar(float value)
    {
        if (!scalars.TryGetValue(value, out var name))
            scalars[value] = name = AddFloatInitializer($"scalar_{value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture)}", [value], 1);
        return name;
    }

    private TensorProto Initializer(string hint, DataType type, int count, long[] shape)
    {
        long expected = shape.Aggregate(1L, (p, d) => p * d);
        if (expected != count)
            throw new ArgumentException($"Initializer '{hint}': {count} values do not fill shape [{string.Join(",", shape)}].");
        var t = new TensorProto { Name = Claim(UniqueName(hint)), DataType = (int)type };
        t.Dims.AddRange(shape);
        graph.Initializer.Add(t);
        return t;
    }

    private string Claim(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (!values.Add(name)) throw new ArgumentException($"Value name '{name}' is already used in graph '{graph.Name}'.", nameof(name));
        return name;
    }

    private void Require(string name)
    {
        if (!values.Contains(name))
            throw new ArgumentException($"Value '{name}' is not produced by any input, initializer or node of graph '{graph.Name}'.", nameof(name));
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, OnnxDim[] shape)
    {
        var tensorShape = new TensorShapeProto();
        foreach (var d in shape)
            tensorShape.Dim.Add(d.Symbol is null
                ? new TensorShapeProto.Types.Dimension { DimValue = d.Size!.Value }
                : new TensorShapeProto.Types.Dimension { DimParam = d.Symbol });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = tensorShape } },
        };
    }

    private static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    private static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Ints(string name, long[] value)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(value);
        return a;
    }
}
