using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// Vision Transformer feature extractor (Dosovitskiy et al. 2020, "An Image is Worth 16x16 Words"), torchvision's layout
/// without the classifier: <c>conv_proj</c> (P×P patches, stride P, to the hidden width), <c>class_token</c> prepended,
/// <c>encoder.pos_embedding</c> added, <c>encoder.layers.encoder_layer_{i}</c> (pre-norm blocks: <c>ln_1</c>, multi-head
/// <c>self_attention</c>, <c>ln_2</c>, <c>mlp</c>), <c>encoder.ln</c>; the features are the class token after
/// <c>encoder.ln</c>. Parameter names are torchvision's state_dict keys, so its weights load by name.
/// </summary>
/// <remarks>
/// The position table has one row per patch of one grid, so the network is built for one image side
/// (<see cref="ImageSize"/>, a multiple of the patch size). A reference file made for another grid (torchvision's are
/// 224 px) is resampled when it is loaded (<see cref="FromReferenceStateDict"/>), so training, export and scoring all run
/// on a plain table of the trained size. Dropout is left out: torchvision's vit_* builders set both rates to 0.
/// Verified against torchvision 0.14's <c>VisionTransformer</c>: eng/parity/torchvision_fixtures.py.
/// </remarks>
public sealed class VisionTransformer : ImageBackbone
{
    /// <summary>torchvision's LayerNorm ε for every ViT.</summary>
    internal const double LayerNormEpsilon = 1e-6;

    /// <summary>Encoder blocks are trained in at most this many layer groups (ViT-B: 4 groups of 3 blocks).</summary>
    private const int MaxBlockGroups = 4;

    private readonly Conv2d convProj;
    private readonly Parameter classToken;
    private readonly VitEncoder encoder;

    /// <summary>Creates the network.</summary>
    /// <param name="imageSize">Side of the square input in pixels (the <c>ImageSize</c> option); a multiple of <paramref name="patchSize"/>.</param>
    /// <param name="patchSize">Patch side: 16 for vit_b_16 and vit_l_16, 32 for vit_b_32 and vit_l_32.</param>
    /// <param name="layers">Encoder blocks: 12 (B), 24 (L).</param>
    /// <param name="heads">Attention heads: 12 (B), 16 (L).</param>
    /// <param name="hiddenDim">Token width: 768 (B), 1024 (L).</param>
    /// <param name="mlpDim">Width inside each block's MLP: 3072 (B), 4096 (L).</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or the image size is not a multiple of the patch size.</exception>
    /// <exception cref="ArgumentException">The width does not split into the heads.</exception>
    public VisionTransformer(int imageSize, int patchSize, int layers, int heads, int hiddenDim, int mlpDim)
        : base(nameof(VisionTransformer))
    {
        if (patchSize < 1 || layers < 1 || heads < 1 || hiddenDim < 1 || mlpDim < 1)
            throw new ArgumentOutOfRangeException(nameof(patchSize), "The patch size, layer and head counts and widths must be positive.");
        CheckImageSize(imageSize, patchSize);
        if (hiddenDim % heads != 0)
            throw new ArgumentException($"The hidden width {hiddenDim} does not split into {heads} heads.", nameof(heads));
        ImageSize = imageSize;
        PatchSize = patchSize;
        Layers = layers;
        Heads = heads;
        HiddenDim = hiddenDim;
        MlpDim = mlpDim;

        convProj = Conv2d(3, hiddenDim, patchSize, stride: patchSize);
        classToken = new Parameter(zeros(1, 1, hiddenDim));
        encoder = new VitEncoder(GridSize * GridSize + 1, layers, heads, hiddenDim, mlpDim);
        // Registered by hand: the state_dict keys are torchvision's snake_case names, not the fields'.
        register_module("conv_proj", convProj);
        register_parameter("class_token", classToken);
        register_module("encoder", encoder);
        InitializeLikeTorchvision();
    }

    /// <summary>Side of the square input the position table is laid out for.</summary>
    public int ImageSize { get; }
    /// <summary>Patch side in pixels.</summary>
    public int PatchSize { get; }
    /// <summary>Encoder blocks.</summary>
    public int Layers { get; }
    /// <summary>Attention heads per block.</summary>
    public int Heads { get; }
    /// <summary>Token width.</summary>
    public int HiddenDim { get; }
    /// <summary>Width inside each block's MLP.</summary>
    public int MlpDim { get; }

    /// <summary>Patches per side.</summary>
    internal int GridSize => ImageSize / PatchSize;

    /// <summary>The class token's width (<see cref="HiddenDim"/>).</summary>
    public override int FeatureCount => HiddenDim;

    /// <summary>One patch: the smallest grid.</summary>
    public override int MinImageSize => PatchSize;

    /// <summary><see cref="ImageSize"/>: the position table fixes it.</summary>
    public override int? FixedImageSize => ImageSize;

    /// <summary>Patch embedding (with the class token and positions), the blocks in up to four groups, <c>encoder.ln</c>.</summary>
    public override int LayerCount => BlockGroups + 2;

    private int BlockGroups => Math.Min(MaxBlockGroups, Layers);

    /// <inheritdoc/>
    public override int LayerOf(string parameterName)
    {
        const string blocks = "encoder.layers.encoder_layer_";
        if (parameterName.StartsWith("encoder.ln.", StringComparison.Ordinal)) return LayerCount - 1;
        if (!parameterName.StartsWith(blocks, StringComparison.Ordinal)) return 0;
        int end = parameterName.IndexOf('.', blocks.Length);
        return int.TryParse(parameterName.AsSpan(blocks.Length, (end < 0 ? parameterName.Length : end) - blocks.Length), out int i)
            ? 1 + Math.Clamp(i, 0, Layers - 1) * BlockGroups / Layers : 0;
    }

    /// <inheritdoc/>
    public override string Shape =>
        $"VisionTransformer(patch {PatchSize}, {Layers} layers, {Heads} heads, hidden {HiddenDim}, MLP {MlpDim}, {ImageSize} px)";

    /// <summary>torchvision's classifier: <c>heads.head</c> (and <c>heads.pre_logits</c> where a file has one).</summary>
    internal override bool IsReferenceClassifierKey(string key) => key.StartsWith("heads.", StringComparison.Ordinal);

    /// <summary>The class token and the position table are learnt offsets, not weights that multiply anything: decaying
    /// them toward zero only erases position information (timm's <c>no_weight_decay</c> and torchvision's ViT recipe
    /// exempt both).</summary>
    internal override bool DecaysWeight(string parameterName) => parameterName is not ("class_token" or VitPositions.Key);

    /// <summary>Renames torchvision's older MLP keys (<c>mlp.linear_1</c>/<c>linear_2</c>, now <c>mlp.0</c>/<c>mlp.3</c>:
    /// torchvision's own loader still renames them, for its published files), and resamples a position table made for
    /// another grid to this one (<see cref="VitPositions"/>).</summary>
    internal override IReadOnlyDictionary<string, Tensor> FromReferenceStateDict(IReadOnlyDictionary<string, Tensor> source)
    {
        var adapted = new Dictionary<string, Tensor>(source.Count);
        foreach (var (key, value) in source)
            adapted[key.Replace(".mlp.linear_1.", ".mlp.0.", StringComparison.Ordinal)
                       .Replace(".mlp.linear_2.", ".mlp.3.", StringComparison.Ordinal)] = value;
        if (adapted.TryGetValue(VitPositions.Key, out var table))
            adapted[VitPositions.Key] = VitPositions.Resample(table, GridSize);
        return adapted;
    }

    internal Conv2d ConvProj => convProj;
    internal Parameter ClassToken => classToken;
    internal VitEncoder Encoder => encoder;

    /// <summary>Refuses an image side the patches do not tile, naming the option (also the catalog's check of the options).</summary>
    internal static void CheckImageSize(int imageSize, int patchSize) =>
        Check.Range(imageSize >= patchSize && imageSize % patchSize == 0, "ImageSize",
            $"a multiple of {patchSize}, the Vision Transformer's patch size (e.g. {Math.Max(1, imageSize / patchSize) * patchSize} or {(imageSize / patchSize + 1) * patchSize})",
            imageSize);

    /// <summary>Images [N,3,S,S] (already normalised, S = <see cref="ImageSize"/>) → class tokens [N, <see cref="HiddenDim"/>].</summary>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[2] != ImageSize || x.shape[3] != ImageSize)
            throw new ArgumentException(
                $"This Vision Transformer's position table is laid out for {ImageSize}×{ImageSize} images (ImageSize); the input is [{string.Join(",", x.shape)}].",
                nameof(x));
        using var scope = NewDisposeScope();
        // [N,D,g,g] → [N,g²,D]: patches in row-major order, as torchvision's reshape and permute give.
        var patches = convProj.forward(x).flatten(2).transpose(1, 2);
        var tokens = cat([classToken.expand(x.shape[0], -1, -1), patches], 1);
        return encoder.forward(tokens).select(1, 0).MoveToOuterDisposeScope();
    }

    /// <summary>torchvision's initialisation, for training from scratch: patch conv truncated normal with std √(1/fan-in) and
    /// zero bias, class token 0, positions N(0, 0.02²), MLP Xavier-uniform with N(0, 1e-6²) biases, attention input
    /// projection Xavier-uniform with zero biases, LayerNorms 1 and 0.</summary>
    private void InitializeLikeTorchvision()
    {
        using var noGrad = no_grad();
        // torchvision's bounds are ±2 in absolute terms, some 50 standard deviations out: in effect a plain normal.
        init.trunc_normal_(convProj.weight!, 0, Math.Sqrt(1.0 / (3 * PatchSize * PatchSize)), -2, 2);
        init.zeros_(convProj.bias!);
        init.normal_(encoder.PositionEmbedding, 0, 0.02);
        foreach (var block in encoder.Blocks)
            block.Initialize();
    }
}
