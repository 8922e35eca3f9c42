using MLNet.FineTuning.Data;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

/// <summary>Options every image estimator shares (<see cref="FineTuneImageClassifier"/>, <see cref="FineTuneImageRegressor"/>):
/// the image column, the backbone and its weights, the input size, augmentation and the image cache. Shared training
/// options (epochs, rates, schedule, validation, early stopping, checkpoints) are documented on <see cref="FineTuningOptions"/>.</summary>
public abstract class ImageFineTuningOptions : FineTuningOptions
{
    private protected ImageFineTuningOptions() { }

    /// <summary>Image column: decoded images (<c>MLImage</c>, from <c>LoadImages</c>) or encoded image bytes
    /// (<c>VBuffer&lt;byte&gt;</c>, from <c>LoadRawImageBytes</c>), which this library decodes. Default "Image".</summary>
    public string ImageColumnName { get; set; } = ColumnNames.Image;

    /// <summary>Side of the square network input in pixels, in [32, 1024]. Default 224, the resolution the
    /// ImageNet weights were trained at (use it on a GPU). On a CPU, 64–128 trains 5–20× faster
    /// (measured on 2 cores: 6–7 img/s at 224 px, about 50 at 64 px) at some cost in accuracy.</summary>
    public int ImageSize { get; set; } = 224;

    /// <summary>Backbone name from <see cref="PretrainedCatalog"/>. Default <see cref="PretrainedCatalog.ResNet18MlNet"/>
    /// (ImageNet ResNet-18 shipped by Microsoft.ML.DnnImageFeaturizer.ResNet18; no download).</summary>
    public string Backbone { get; set; } = PretrainedCatalog.ResNet18MlNet;

    /// <summary>Weights file for the backbone: required for torchvision-layout backbones (.safetensors or a
    /// PyTorch state_dict), optional for the default (overrides the packaged ONNX file's location).</summary>
    public string? WeightsPath { get; set; }

    /// <summary>Start from the pretrained weights (true, the point of fine-tuning) or from random
    /// initialisation (false; for comparisons). Default true.</summary>
    public bool UsePretrainedWeights { get; set; } = true;

    /// <summary>Dropout before the new head, in [0, 1). Default 0.2.</summary>
    public double HeadDropout { get; set; } = 0.2;

    /// <summary>Keep BatchNorm running statistics at their pretrained values for the whole run (helps with
    /// batches of fewer than ~16 images). Default false.</summary>
    public bool FreezeBatchNormStatistics { get; set; }

    /// <summary>How much the training images are distorted (<see cref="ImageAugmentationPolicy"/>). Default
    /// <see cref="ImageAugmentationPolicy.None"/>: on the quality suite (docs/quality.md; 1,000 rows, 5 epochs) every
    /// augmentation tried lost accuracy: flips and crops down to 35 % of the area lost 10–55 points on glyphs and
    /// digits, and crops of 75–100 % still lost 0.2–2.9 points on each of the five data sets.</summary>
    public ImageAugmentationPolicy Augmentation { get; set; } = ImageAugmentationPolicy.None;

    /// <summary>Smallest area fraction of the random resized crop used for training augmentation, in (0, 1]; 1 turns
    /// cropping off. Default null: the <see cref="Augmentation"/> policy's (None 1, Light 0.75, Strong 0.35).</summary>
    public double? RandomCropMinScale { get; set; }

    /// <summary>Random horizontal flips during training. Default null: the <see cref="Augmentation"/> policy's (only
    /// Strong flips).</summary>
    public bool? HorizontalFlip { get; set; }

    /// <summary>The crop scale training uses: <see cref="RandomCropMinScale"/> when set, else the policy's.</summary>
    internal double EffectiveCropMinScale => RandomCropMinScale ?? Augmentation.CropMinScale();

    /// <summary>Whether training flips: <see cref="HorizontalFlip"/> when set, else the policy's.</summary>
    internal bool EffectiveHorizontalFlip => HorizontalFlip ?? Augmentation.Flips();

    /// <summary>Brightness and contrast jitter for training images: each image's brightness and contrast are scaled by
    /// factors drawn uniformly from [1 − j, 1 + j], in [0, 1). Default 0 (off). Turn it on with <see cref="NoiseLevel"/>
    /// when the images to score may be dimmer or noisier than the training images (phone photos, scans): on the quality
    /// suite (docs/quality.md) 0.2 with a noise level of 10 cost 0.7 points on clean test images and gained 13 on
    /// degraded copies.</summary>
    public double ColorJitter { get; set; }

    /// <summary>Gaussian noise for training images: each image gets noise of a standard deviation drawn uniformly from
    /// [0, level] grey levels (of 255), in [0, 128]. Default 0 (off); see <see cref="ColorJitter"/> for when to use it.</summary>
    public double NoiseLevel { get; set; }

    /// <summary>Everything training does to an image, resolved from the policy and the overrides.</summary>
    internal ImageAugmentationSettings TrainingAugmentation =>
        new(EffectiveCropMinScale, EffectiveHorizontalFlip, ColorJitter, NoiseLevel);

    /// <summary>Mixup (Zhang et al. 2018): each training batch blends with a shuffled copy of itself by λ ~ Beta(α, α),
    /// and so do the labels. α ≥ 0; 0 turns it off (typical: 0.2). Default 0.</summary>
    public double MixupAlpha { get; set; }

    /// <summary>CutMix (Yun et al. 2019): a box of a shuffled copy's image is pasted into each training image, the
    /// labels weighted by area, with the kept share ~ Beta(α, α). α ≥ 0; 0 turns it off (typical: 1). With Mixup on
    /// too, each batch takes one of the two at random. Default 0.</summary>
    public double CutMixAlpha { get; set; }

    /// <summary>Skip rows whose image cannot be read (and count them in the log) instead of failing. Default
    /// false: an unreadable image is an error that names its row.</summary>
    public bool SkipUnreadableImages { get; set; }

    /// <summary>Decoded images are kept in memory while they fit this budget (MiB); beyond it every epoch
    /// streams and decodes them again from the IDataView. When every epoch sees the same pixels (validation, and
    /// training under <see cref="ImageAugmentationPolicy.None"/> without photometric changes: the default), the
    /// centre-cropped pixels at <see cref="ImageSize"/> (3 × S × S bytes per image) are kept too, on the training
    /// device (GPU memory under CUDA), the training and the validation rows each when they fit this budget: batches are then gathered there instead of
    /// resampled on the CPU and copied each epoch, with the same bytes. Default 2048.</summary>
    public int ImageCacheMegabytes { get; set; } = 2048;

    /// <summary>On a CUDA device, train with the convolution kernels and activations laid out channels-last (NHWC), the
    /// layout cuDNN's tensor-core convolutions run on natively: PyTorch's bf16 + channels-last recipe trains ResNet-18
    /// 2.2× as fast as its fp32 one on an H200. Results are the same up to rounding; checkpoints, the exported model and
    /// saved weights are unchanged (the layout is undone after training). Not yet measured with this library on a GPU,
    /// so off by default (docs/benchmarks.md). Ignored on the CPU, and said so in the log: there libtorch's convolution
    /// computed a ResNet shortcut wrong in this layout on one processor. Default false.</summary>
    public bool ChannelsLast { get; set; }

    /// <summary>Tests only: <see cref="ChannelsLast"/> on the CPU too, to check the layout's plumbing where no GPU is.</summary>
    internal bool ChannelsLastOnTheCpu { get; set; }

    /// <summary>Whether training on <paramref name="device"/> uses the channels-last layout.</summary>
    internal bool UsesChannelsLast(TorchSharp.torch.Device device) =>
        ChannelsLast && (device.type == TorchSharp.DeviceType.CUDA || ChannelsLastOnTheCpu);

    /// <summary>What a checkpoint records of the network these options build, under <paramref name="kind"/> (the
    /// estimator); each task adds what it needs (class names, target scaling).</summary>
    internal System.Text.Json.Nodes.JsonObject CheckpointFields(string kind) => new()
    {
        ["kind"] = kind,
        ["backbone"] = Backbone,
        ["imageSize"] = ImageSize,
        ["headDropout"] = HeadDropout,
    };

    internal override void Validate()
    {
        base.Validate();
        Check.Range(ImageSize >= 32 && ImageSize <= 1024, nameof(ImageSize), "in [32, 1024]", ImageSize);
        Check.Range(HeadDropout >= 0 && HeadDropout < 1, nameof(HeadDropout), "in [0, 1)", HeadDropout);
        if (RandomCropMinScale is double crop) Check.Range(crop > 0 && crop <= 1, nameof(RandomCropMinScale), "in (0, 1]", crop);
        Check.Range(Enum.IsDefined(Augmentation), nameof(Augmentation), "None, Light or Strong", Augmentation);
        Check.Range(ColorJitter >= 0 && ColorJitter < 1, nameof(ColorJitter), "in [0, 1)", ColorJitter);
        Check.Range(NoiseLevel >= 0 && NoiseLevel <= 128, nameof(NoiseLevel), "in [0, 128] grey levels", NoiseLevel);
        Check.Range(MixupAlpha >= 0, nameof(MixupAlpha), "≥ 0", MixupAlpha);
        Check.Range(CutMixAlpha >= 0, nameof(CutMixAlpha), "≥ 0", CutMixAlpha);
        Check.Range(ImageCacheMegabytes >= 0, nameof(ImageCacheMegabytes), "≥ 0", ImageCacheMegabytes);
        if (string.IsNullOrWhiteSpace(ImageColumnName)) throw new ArgumentException("ImageColumnName must name a column.");
        PretrainedCatalog.GetImageBackbone(Backbone).CheckImageSize(ImageSize);
    }
}
