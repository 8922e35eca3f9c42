using MLNet.FineTuning.Modeling;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Name map for the ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18 (a CNTK 2.6 export whose
/// initializers are called <c>ParameterNN</c>/<c>ConstantNN</c>): walks the graph from its input along the
/// data flow (Conv → BatchNormalization → Relu … Add → Relu) in step with the <see cref="ResNet"/> modules,
/// checks each node's attributes against the module it lands on, and returns the weights under the
/// network's state_dict keys. Names in the file are never interpreted.
/// </summary>
/// <remarks>
/// CNTK exported its "auto padding" as asymmetric pads: conv1 [3,3,2,2], the stem max-pool and every
/// stride-2 3×3 convolution [1,1,0,0] (begin H,W, end H,W). The module pads symmetrically (torchvision).
/// Both read the same pixels as long as each stride-2 layer sees an even input (any multiple of 32,
/// such as the file's fixed 224), because the extra bottom/right row of symmetric padding is then never
/// reached; <see cref="CheckWindow"/> proves this at the file's input size rather than assuming it.
/// </remarks>
internal sealed class MlNetResNetOnnxMap
{
    private readonly OnnxGraph graph;
    private readonly Dictionary<Module, string> names = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<string, Tensor> values = [];
    // Spatial size (H, W) of every tensor on the path, propagated from the fixed graph input.
    private readonly Dictionary<string, (long H, long W)> sizes = [];

    private MlNetResNetOnnxMap(OnnxGraph graph, ResNet model)
    {
        this.graph = graph;
        foreach (var (name, module) in model.named_modules()) names[module] = name;
    }

    /// <summary>The graph's weights keyed by <paramref name="model"/>'s state_dict names (new tensors, in the caller's dispose scope).</summary>
    /// <exception cref="InvalidDataException">The graph does not have the network's structure; the message says where.</exception>
    public static Dictionary<string, Tensor> ToStateDict(ModelProto onnx, ResNet model, string origin)
    {
        var map = new MlNetResNetOnnxMap(new OnnxGraph(onnx.Graph ?? new GraphProto(), origin), model);
        map.Walk(model);
        return map.values;
    }

    private void Walk(ResNet model)
    {
        var input = graph.Input;
        var dims = input.Type?.TensorType?.Shape?.Dim.Select(d => d.DimValue).ToArray() ?? [];
        if (dims.Length != 4 || dims[1] != 3 || dims[2] <= 0 || dims[3] <= 0)
            throw graph.Error($"input '{input.Name}' should be a fixed-size [N,3,H,W] image tensor.");
        sizes[input.Name] = (dims[2], dims[3]);

        string x = ConvBn(graph.Next(input.Name, "Conv"), model.Conv1, model.Bn1);
        x = Relu(x);
        x = MaxPool(graph.Next(x, "MaxPool"), (MaxPool2d)model.named_children().Single(c => c.name == "maxpool").module);
        foreach (var stage in model.Stages)
            foreach (var block in stage.children())
                x = Block(x, block);
        GlobalPool(x);
        graph.CheckAllMapped();
    }

    private string Block(string x, Module block)
    {
        var (path, downsample) = block switch
        {
            BasicBlock b => (b.MainPath.ToArray(), b.Downsample),
            BottleneckBlock b => (b.MainPath.ToArray(), b.Downsample),
            _ => throw new NotSupportedException($"No ONNX mapping for block type {block.GetType().Name}."),
        };
        // The block input feeds the first main-path conv, and the shortcut: directly into the Add, or
        // through a projection conv whose BatchNormalization feeds the Add (one step, unlike the main path).
        var convs = graph.Consumers(x).Where(n => n.OpType == "Conv").ToArray();
        var projections = convs.Where(FeedsAddAfterNorm).ToArray();
        var main = convs.Except(projections).ToArray();
        if (main.Length != 1 || projections.Length != (downsample is null ? 0 : 1))
            throw graph.Error($"block '{names[block]}' expects 1 main-path conv and {(downsample is null ? 0 : 1)} " +
                              $"projection conv reading '{x}', found {main.Length} and {projections.Length}.");

        string y = ConvBn(main[0], path[0].Conv, path[0].Norm);
        for (int i = 1; i < path.Length; i++)
            y = ConvBn(graph.Next(Relu(y), "Conv"), path[i].Conv, path[i].Norm);

        string shortcut = x;
        if (downsample is not null)
        {
            var parts = downsample.children().ToArray();
            shortcut = ConvBn(projections[0], (Conv2d)parts[0], (BatchNorm2d)parts[1]);
        }
        var add = graph.Next(y, "Add");
        graph.Visit(add);
        if (add.Input.Count != 2 || !add.Input.Contains(shortcut))
            throw graph.Error($"{OnnxGraph.Describe(add)} should add '{y}' and the shortcut '{shortcut}'.");
        if (sizes[y] != sizes[shortcut])
            throw graph.Error($"{OnnxGraph.Describe(add)} adds {sizes[y]} to {sizes[shortcut]}.");
        sizes[add.Output[0]] = sizes[y];
        return Relu(add.Output[0]);
    }

    private bool FeedsAddAfterNorm(NodeProto conv)
    {
        var norm = graph.Consumers(conv.Output[0]);
        return norm is [{ OpType: "BatchNormalization" }] && graph.Consumers(norm[0].Output[0]) is [{ OpType: "Add" }];
    }

    private string ConvBn(NodeProto conv, Conv2d convModule, BatchNorm2d norm)
    {
        graph.Visit(conv);
        if (OnnxGraph.Int(conv, "group", 1) != convModule.groups)
            throw graph.Error($"{OnnxGraph.Describe(conv)} has group {OnnxGraph.Int(conv, "group", 1)}, module '{names[convModule]}' {convModule.groups}.");
        if (!OnnxGraph.Ints(conv, "dilations", [1, 1]).SequenceEqual(Pair(convModule.dilation)))
            throw graph.Error($"{OnnxGraph.Describe(conv)} has dilations the module '{names[convModule]}' does not.");
        CheckWindow(conv, convModule.kernel_size, convModule.stride,
            convModule.padding ?? throw new NotSupportedException($"Module '{names[convModule]}' pads by mode, not by size."),
            names[convModule]);
        Add(names[convModule] + ".weight", graph.TakeFloat(conv.Input[1]));
        // A conv bias in the file lands on a key the module lacks and is reported as unexpected.
        if (conv.Input.Count > 2) Add(names[convModule] + ".bias", graph.TakeFloat(conv.Input[2]));

        var bn = graph.Next(conv.Output[0], "BatchNormalization");
        graph.Visit(bn);
        // Opset ≤ 8 allows per-activation statistics (spatial=0); only per-channel maps onto BatchNorm2d.
        if (OnnxGraph.Int(bn, "spatial", 1) != 1 || bn.Input.Count != 5 || bn.Output.Count != 1)
            throw graph.Error($"{OnnxGraph.Describe(bn)} is not a per-channel inference BatchNormalization.");
        double eps = OnnxGraph.Float(bn, "epsilon", 1e-5f);
        if (Math.Abs(eps - norm.eps) > 1e-4 * norm.eps)
            throw graph.Error($"{OnnxGraph.Describe(bn)} has epsilon {eps:G6}, module '{names[norm]}' {norm.eps:G6}.");
        // momentum (CNTK wrote 0.988) is a training setting only; fine-tuning uses the module's own.
        string key = names[norm];
        Add(key + ".weight", graph.TakeFloat(bn.Input[1]));
        Add(key + ".bias", graph.TakeFloat(bn.Input[2]));
        Add(key + ".running_mean", graph.TakeFloat(bn.Input[3]));
        Add(key + ".running_var", graph.TakeFloat(bn.Input[4]));
        sizes[bn.Output[0]] = sizes[conv.Output[0]];
        return bn.Output[0];
    }

    private string MaxPool(NodeProto pool, MaxPool2d module)
    {
        graph.Visit(pool);
        if (OnnxGraph.Int(pool, "ceil_mode", 0) != (module.ceil_mode ? 1 : 0) ||
            !OnnxGraph.Ints(pool, "dilations", [1, 1]).SequenceEqual(Pair(module.dilation ?? [1])))
            throw graph.Error($"{OnnxGraph.Describe(pool)} has ceil_mode or dilations the module '{names[module]}' does not.");
        CheckWindow(pool, module.kernel_size, module.stride ?? module.kernel_size, module.padding ?? [0], names[module]);
        return pool.Output[0];
    }

    /// <summary>
    /// Checks kernel, stride and padding of a Conv or MaxPool node against its module, and records the
    /// output size. Begin pads must equal the module's padding; end pads may be smaller (CNTK) only if the
    /// output size at this input size stays the same, since then both read exactly the same windows.
    /// </summary>
    private void CheckWindow(NodeProto node, long[] kernel, long[] stride, long[] padding, string module)
    {
        string where = $"{OnnxGraph.Describe(node)} (module '{module}')";
        if (OnnxGraph.String(node, "auto_pad", "NOTSET") != "NOTSET")
            throw graph.Error($"{where} uses auto_pad; only explicit pads are supported.");
        // A Conv may leave kernel_shape out (it follows the weight, whose shape is checked on assignment).
        long[] nodeKernel = OnnxGraph.Ints(node, "kernel_shape", node.OpType == "Conv" ? Pair(kernel) : []);
        long[] strides = OnnxGraph.Ints(node, "strides", [1, 1]);
        long[] pads = OnnxGraph.Ints(node, "pads", [0, 0, 0, 0]);
        long[] moduleKernel = Pair(kernel), moduleStride = Pair(stride), modulePad = Pair(padding);
        if (!nodeKernel.SequenceEqual(moduleKernel) || !strides.SequenceEqual(moduleStride) || pads.Length != 4)
            throw graph.Error($"{where} has kernel [{string.Join(",", nodeKernel)}] stride [{string.Join(",", strides)}], " +
                              $"the module kernel [{string.Join(",", moduleKernel)}] stride [{string.Join(",", moduleStride)}].");
        var (h, w) = sizes[node.Input[0]];
        long[] inSize = [h, w], outSize = new long[2];
        for (int d = 0; d < 2; d++)
        {
            long fileOut = (inSize[d] + pads[d] + pads[d + 2] - nodeKernel[d]) / strides[d] + 1;
            long moduleOut = (inSize[d] + 2 * modulePad[d] - nodeKernel[d]) / strides[d] + 1;
            if (pads[d] != modulePad[d] || pads[d + 2] > modulePad[d] || fileOut != moduleOut)
                throw graph.Error($"{where} pads [{string.Join(",", pads)}] differ from the module's padding " +
                                  $"[{string.Join(",", modulePad)}] at input size {h}×{w}.");
            outSize[d] = fileOut;
        }
        sizes[node.Output[0]] = (outSize[0], outSize[1]);
    }

    // TorchSharp may keep a square window as one number.
    private static long[] Pair(long[] v) => v.Length == 1 ? [v[0], v[0]] : v;

    private string Relu(string x)
    {
        var relu = graph.Next(x, "Relu");
        graph.Visit(relu);
        sizes[relu.Output[0]] = sizes[x];
        return relu.Output[0];
    }

    /// <summary>The module ends in a mean over H,W: the graph must end in a pooling window that covers the whole map.</summary>
    private void GlobalPool(string x)
    {
        // More graph after the last block means blocks the network lacks: list all that is left over.
        if (graph.Consumers(x) is not [{ OpType: "AveragePool" or "GlobalAveragePool" }]) graph.CheckAllMapped();
        var pool = graph.Next(x, "AveragePool", "GlobalAveragePool");
        graph.Visit(pool);
        var (h, w) = sizes[x];
        if (pool.OpType == "AveragePool" &&
            (!OnnxGraph.Ints(pool, "kernel_shape", []).SequenceEqual([h, w]) ||
             OnnxGraph.Ints(pool, "pads", [0, 0, 0, 0]).Any(p => p != 0)))
            throw graph.Error($"{OnnxGraph.Describe(pool)} does not average the whole {h}×{w} map.");
        if (!graph.IsOutput(pool.Output[0]))
            throw graph.Error($"{OnnxGraph.Describe(pool)} should produce the graph output.");
    }

    private void Add(string key, Tensor value)
    {
        if (!values.TryAdd(key, value)) throw graph.Error($"two initializers map onto '{key}'.");
    }
}
