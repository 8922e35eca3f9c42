using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>torchvision's ViT <c>Encoder</c>: adds <c>pos_embedding</c>, runs <c>layers.encoder_layer_{i}</c>, then <c>ln</c>.</summary>
internal sealed class VitEncoder : Module<Tensor, Tensor>
{
    private readonly Parameter posEmbedding;
    private readonly Sequential layers;
    private readonly LayerNorm ln;

    internal VitEncoder(int sequenceLength, int layerCount, int heads, int hiddenDim, int mlpDim) : base(nameof(VitEncoder))
    {
        posEmbedding = new Parameter(zeros(1, sequenceLength, hiddenDim));
        layers = Sequential(Enumerable.Range(0, layerCount)
            .Select(i => ($"encoder_layer_{i}", (Module<Tensor, Tensor>)new VitEncoderBlock(heads, hiddenDim, mlpDim))));
        ln = LayerNorm(hiddenDim, VisionTransformer.LayerNormEpsilon);
        register_parameter("pos_embedding", posEmbedding);
        register_module("layers", layers);
        register_module("ln", ln);
    }

    internal Parameter PositionEmbedding => posEmbedding;
    internal IEnumerable<VitEncoderBlock> Blocks => layers.children().Cast<VitEncoderBlock>();
    internal LayerNorm Norm => ln;

    /// <summary>Tokens [N,S,D] (class token first) → normalised tokens [N,S,D].</summary>
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return ln.forward(layers.forward(tokens.add(posEmbedding, KeptScalars.One))).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// torchvision's ViT <c>EncoderBlock</c>, pre-norm: x + attention(ln_1(x)), then y + mlp(ln_2(y)). The MLP is torchvision's
/// <c>MLPBlock</c> keys: <c>mlp.0</c> (Linear to the MLP width), <c>mlp.1</c> (exact GELU), <c>mlp.3</c> (Linear back); its
/// Dropouts <c>mlp.2</c> and <c>mlp.4</c> have no weights and rate 0, and are left out.
/// </summary>
internal sealed class VitEncoderBlock : Module<Tensor, Tensor>
{
    private readonly LayerNorm ln1, ln2;
    private readonly VitSelfAttention attention;
    private readonly Sequential mlp;

    internal VitEncoderBlock(int heads, int hiddenDim, int mlpDim) : base(nameof(VitEncoderBlock))
    {
        ln1 = LayerNorm(hiddenDim, VisionTransformer.LayerNormEpsilon);
        attention = new VitSelfAttention(heads, hiddenDim);
        ln2 = LayerNorm(hiddenDim, VisionTransformer.LayerNormEpsilon);
        mlp = Sequential(("0", Linear(hiddenDim, mlpDim)), ("1", GELU()), ("3", Linear(mlpDim, hiddenDim)));
        register_module("ln_1", ln1);
        register_module("self_attention", attention);
        register_module("ln_2", ln2);
        register_module("mlp", mlp);
    }

    internal LayerNorm Ln1 => ln1;
    internal VitSelfAttention Attention => attention;
    internal LayerNorm Ln2 => ln2;
    /// <summary>The MLP's two projections, <c>mlp.0</c> and <c>mlp.3</c>.</summary>
    internal (Linear Up, Linear Down) Mlp => mlp.children().OfType<Linear>().ToArray() is [var up, var down]
        ? (up, down) : throw new InvalidOperationException("A ViT MLP has two Linear layers.");

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = x.add(attention.forward(ln1.forward(x)), KeptScalars.One);
        return y.add(mlp.forward(ln2.forward(y)), KeptScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's starting weights for the MLP (Xavier-uniform, biases N(0, 1e-6²)) and the attention.</summary>
    internal void Initialize()
    {
        var (up, down) = Mlp;
        foreach (var linear in new[] { up, down })
        {
            init.xavier_uniform_(linear.weight!);
            init.normal_(linear.bias!, 0, 1e-6);
        }
        attention.Initialize();
    }
}

/// <summary>
/// Multi-head self-attention with PyTorch <c>nn.MultiheadAttention</c>'s parameters (what torchvision's ViT holds):
/// <c>in_proj_weight</c> [3D, D] and <c>in_proj_bias</c> [3D], the query, key and value projections stacked in that order,
/// and <c>out_proj</c>. No mask, no dropout: softmax(q·kᵀ/√d)·v per head.
/// </summary>
internal sealed class VitSelfAttention : Module<Tensor, Tensor>
{
    private readonly Parameter inProjWeight, inProjBias;
    private readonly Linear outProj;

    internal VitSelfAttention(int heads, int hiddenDim) : base(nameof(VitSelfAttention))
    {
        HeadCount = heads;
        inProjWeight = new Parameter(empty(3 * hiddenDim, hiddenDim));
        inProjBias = new Parameter(zeros(3 * hiddenDim));
        outProj = Linear(hiddenDim, hiddenDim);
        register_parameter("in_proj_weight", inProjWeight);
        register_parameter("in_proj_bias", inProjBias);
        register_module("out_proj", outProj);
    }

    internal int HeadCount { get; }
    internal Parameter InProjWeight => inProjWeight;
    internal Parameter InProjBias => inProjBias;
    internal Linear OutProj => outProj;

    /// <summary>Tokens [N,S,D] → attended tokens [N,S,D].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], s = x.shape[1], d = x.shape[2];
        // One GEMM for q, k and v, then [N,S,3,H,d] → three [N,H,S,d].
        var qkv = functional.linear(x, inProjWeight, inProjBias).view(n, s, 3, HeadCount, d / HeadCount).permute(2, 0, 3, 1, 4).unbind(0);
        var context = functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], null, 0.0, false);
        return outProj.forward(context.transpose(1, 2).reshape(n, s, d)).MoveToOuterDisposeScope();
    }

    /// <summary>PyTorch's MultiheadAttention start: Xavier-uniform input projection, zero biases (out_proj's weight keeps
    /// Linear's default). Called by the network's initialisation: until then the input projection is uninitialised.</summary>
    internal void Initialize()
    {
        using var noGrad = no_grad();
        init.xavier_uniform_(inProjWeight);
        init.zeros_(inProjBias);
        init.zeros_(outProj.bias!);
    }
}
