using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// The input normalisation a pretrained image backbone expects. The input is always RGB pixels in
/// 0..255, planar [N,3,H,W] (what ML.NET's <c>ExtractPixels</c> gives with its defaults); the output
/// channel c is <c>(input[src(c)] * Scale - Mean[c]) / Std[c]</c>, where <c>src(c) = 2 - c</c> when
/// <see cref="Bgr"/> and <c>c</c> otherwise. Mean and Std are given in output channel order.
/// </summary>
/// <param name="Bgr">Swap to B,G,R channel order (CNTK/Caffe-trained nets).</param>
/// <param name="Scale">Multiplier applied to the 0..255 value first (1/255 for torchvision nets).</param>
/// <param name="Mean">Per output channel mean, subtracted after scaling.</param>
/// <param name="Std">Per output channel standard deviation, divided last.</param>
public sealed record ImagePreprocessing(bool Bgr, float Scale, float[] Mean, float[] Std)
{
    /// <summary>torchvision / timm ImageNet weights: RGB, /255, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).</summary>
    public static ImagePreprocessing ImageNet { get; } =
        new(false, 1f / 255, [0.485f, 0.456f, 0.406f], [0.229f, 0.224f, 0.225f]);

    /// <summary>
    /// The ResNet-18 of Microsoft.ML.DnnImageFeaturizer.ResNet18 (CNTK): BGR, 0..255, minus the channel
    /// means of its mean image (B 103.06, G 115.90, R 123.15, averaged from ResNetPreprocess.onnx's mean image), no division. The package's
    /// ResNetPreprocess.onnx subtracts a per-pixel 224×224 mean image; its channel means are used instead
    /// so that any <c>ImageSize</c> works.
    /// </summary>
    public static ImagePreprocessing MlNetResNet { get; } =
        new(true, 1f, [103.06f, 115.90f, 123.15f], [1f, 1f, 1f]);

    /// <summary>Applies the normalisation to RGB 0..255 pixels [N,3,H,W]; returns a new tensor.</summary>
    public Tensor Apply(Tensor rgb255)
    {
        using var scope = NewDisposeScope();
        var x = Bgr ? rgb255.flip(1) : rgb255;
        var mean = tensor(Mean, device: x.device).view(1, 3, 1, 1);
        var std = tensor(Std, device: x.device).view(1, 3, 1, 1);
        using var scale = KeptScalars.Of(Scale);
        return x.mul(scale).sub_(mean).div_(std).MoveToOuterDisposeScope();
    }
}
