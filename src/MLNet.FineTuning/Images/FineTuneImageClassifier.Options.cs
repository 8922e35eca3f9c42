using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning;

public sealed partial class FineTuneImageClassifier
{
    /// <summary>Options of <see cref="FineTuneImageClassifier"/>. Shared training options (epochs, rates,
    /// schedule, validation, early stopping, checkpoints) are documented on <see cref="FineTuningOptions"/>.</summary>
    public sealed class Options : FineTuningOptions
    {
        /// <summary>Image column: decoded images (<c>MLImage</c>, from <c>LoadImages</c>) or encoded image bytes
        /// (<c>VBuffer&lt;byte&gt;</c>, from <c>LoadRawImageBytes</c>), which this library decodes. Default "Image".</summary>
        public string ImageColumnName { get; set; } = ColumnNames.Image;

        /// <summary>Side of the square network input in pixels, in [32, 1024]. Default 224, the resolution the
        /// ImageNet weights were trained at (use it on a GPU). On a CPU, 64–128 trains 5–20× faster
        /// (shared/FACTS.md: 6–7 img/s at 224 px, about 50 at 64 px on 2 cores) at some cost in accuracy.</summary>
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

        /// <summary>Dropout before the new classification head, in [0, 1). Default 0.2.</summary>
        public double HeadDropout { get; set; } = 0.2;

        /// <summary>Keep BatchNorm running statistics at their pretrained values for the whole run (helps with
        /// batches of fewer than ~16 images). Default false.</summary>
        public bool FreezeBatchNormStatistics { get; set; }

        /// <summary>Smallest area fraction of the random resized crop used for training augmentation, in (0, 1];
        /// 1 turns cropping off. Default 0.35 (milder than torchvision's 0.08, which suits long ImageNet runs
        /// rather than a few epochs of fine-tuning).</summary>
        public double RandomCropMinScale { get; set; } = 0.35;

        /// <summary>Random horizontal flips during training. Default true.</summary>
        public bool HorizontalFlip { get; set; } = true;

        /// <summary>Skip rows whose image cannot be read (and count them in the log) instead of failing. Default
        /// false: an unreadable image is an error that names its row.</summary>
        public bool SkipUnreadableImages { get; set; }

        /// <summary>Decoded images are kept in memory while they fit this budget (MiB); beyond it every epoch
        /// streams and decodes them again from the IDataView. Default 2048.</summary>
        public int ImageCacheMegabytes { get; set; } = 2048;

        internal Options Clone() => (Options)MemberwiseClone();

        internal override void Validate()
        {
            base.Validate();
            Check.Range(ImageSize >= 32 && ImageSize <= 1024, nameof(ImageSize), "in [32, 1024]", ImageSize);
            Check.Range(HeadDropout >= 0 && HeadDropout < 1, nameof(HeadDropout), "in [0, 1)", HeadDropout);
            Check.Range(RandomCropMinScale > 0 && RandomCropMinScale <= 1, nameof(RandomCropMinScale), "in (0, 1]", RandomCropMinScale);
            Check.Range(ImageCacheMegabytes >= 0, nameof(ImageCacheMegabytes), "≥ 0", ImageCacheMegabytes);
            if (string.IsNullOrWhiteSpace(ImageColumnName)) throw new ArgumentException("ImageColumnName must name a column.");
            PretrainedCatalog.GetImageBackbone(Backbone);
        }
    }
}
