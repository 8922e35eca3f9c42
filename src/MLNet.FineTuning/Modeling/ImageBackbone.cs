using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// What every image backbone of this library tells the classifier built on it, the training loop and the weight
/// loader (the network's half of timm's pretrained config; preprocessing and weight sources are the catalog's half,
/// <c>Pretrained.ImageBackboneDefinition</c>). A backbone maps normalised images [N,3,H,W] to pooled features
/// [N, <see cref="FeatureCount"/>], and its submodule names are the reference implementation's state_dict keys.
/// </summary>
/// <remarks>
/// Adding a backbone means one module deriving from this class (Modeling/), one exporter (Onnx/, chosen by the
/// module's type in <c>ImageClassifierExporter</c>) and one catalog entry (Pretrained/PretrainedCatalog.cs). The
/// constructor is internal: a backbone without an exporter could be trained but not saved.
/// </remarks>
public abstract class ImageBackbone : Module<Tensor, Tensor>
{
    private protected ImageBackbone(string name) : base(name) { }

    /// <summary>Length of the pooled feature vector.</summary>
    public abstract int FeatureCount { get; }

    /// <summary>The smallest image side the network takes: its total downsampling (32 for ResNets and EfficientNets);
    /// a smaller image would pool a single border-dominated pixel.</summary>
    public virtual int MinImageSize => 32;

    /// <summary>The one image side the network takes, where its weights fix it (a Vision Transformer's position table is
    /// laid out for one patch grid); null when any side from <see cref="MinImageSize"/> up will do (the CNNs).</summary>
    public virtual int? FixedImageSize => null;

    /// <summary>Layer groups from the input (0) to the output (<c>LayerCount − 1</c>): what layer-wise rate decay and
    /// gradual unfreezing count in.</summary>
    public abstract int LayerCount { get; }

    /// <summary>The layer group of a parameter, by its state_dict name within the backbone (e.g. <c>layer2.0.conv1.weight</c>).</summary>
    public abstract int LayerOf(string parameterName);

    /// <summary>The shape in words for messages, e.g. <c>ResNet(basic, [2,2,2,2])</c>.</summary>
    public abstract string Shape { get; }

    /// <summary>Whether a multi-dimensional parameter (by its name in this module) takes weight decay in fine-tuning: all do
    /// but what the architecture's own recipe exempts.</summary>
    internal virtual bool DecaysWeight(string parameterName) => true;

    /// <summary>Whether a key of the reference implementation's state_dict belongs to its ImageNet classifier, which a
    /// pretrained file carries and fine-tuning replaces with a new head (torchvision's ResNet: <c>fc.*</c>).</summary>
    internal abstract bool IsReferenceClassifierKey(string key);

    /// <summary>A reference state_dict (the file's tensors, by key) as this network's state_dict takes it: keys renamed
    /// or tensors resampled where the reference implementation's files differ from its current modules. Unchanged by
    /// default; new tensors belong to the caller's dispose scope.</summary>
    internal virtual IReadOnlyDictionary<string, Tensor> FromReferenceStateDict(IReadOnlyDictionary<string, Tensor> source) => source;
}
