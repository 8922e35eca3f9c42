using MLNet.FineTuning.Modeling;
using Onnx;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>Loads pretrained weights into an <see cref="ImageBackbone"/>: the one weight loader for image backbones.</summary>
/// <remarks>
/// Every source is first turned into tensors under the network's state_dict keys, then checked as a whole
/// and only then copied, so a file that does not fit leaves the network untouched.
/// </remarks>
internal static class ImageWeightLoader
{
    /// <summary>The NuGet package that ships the default ResNet-18 weights.</summary>
    public const string MlNetResNet18Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    /// <summary>Where Microsoft.ML.DnnImageFeaturizer.ResNet18's build props lay the ONNX file out.</summary>
    public static string DefaultMlNetResNet18Path =>
        Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>Maps the initializers of ML.NET's ResNet18.onnx (CNTK export) onto a [2,2,2,3] BasicBlock ResNet.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="onnxPath"/>.</exception>
    /// <exception cref="InvalidDataException">Not an ONNX model, or its graph does not fit the network (the message says where).</exception>
    public static void LoadMlNetOnnx(ResNet model, string onnxPath)
    {
        if (!File.Exists(onnxPath))
            throw new FileNotFoundException(
                $"The ResNet-18 weights were not found at '{onnxPath}'. They come with the NuGet package " +
                $"{MlNetResNet18Package}, whose build props copy DnnImageModels/ResNet18Onnx/ResNet18.onnx next " +
                "to the application: reference that package, or pass the file's path.", onnxPath);
        ModelProto onnx;
        using (var stream = File.OpenRead(onnxPath)) onnx = OnnxGraph.ReadModel(stream, onnxPath);
        using var scope = NewDisposeScope();
        Assign(model, MlNetResNetOnnxMap.ToStateDict(onnx, model, onnxPath), onnxPath);
    }

    /// <summary>Loads the reference implementation's state_dict keys (torchvision/timm) from .safetensors or a PyTorch
    /// pickle; ignores its ImageNet classifier (<see cref="ImageBackbone.IsReferenceClassifierKey"/>).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">The extension is not .safetensors, .pt, .pth or .bin.</exception>
    /// <exception cref="InvalidDataException">Unreadable file, or keys/shapes that do not fit the network (all listed).</exception>
    public static void LoadTorchvision(ImageBackbone model, string path)
    {
        using var scope = NewDisposeScope();
        Assign(model, StateDictLoader.Read(path), path);
    }

    /// <summary>
    /// Checks and copies <paramref name="source"/> (see <see cref="StateDictLoader.Assign"/>) as the backbone takes it
    /// (<see cref="ImageBackbone.FromReferenceStateDict"/>: a ViT's position table resampled to its grid): num_batches_tracked
    /// may be absent (it is then reset to 0), and the reference classifier (fc.* for a ResNet) is dropped.
    /// </summary>
    internal static void Assign(ImageBackbone model, IReadOnlyDictionary<string, Tensor> source, string origin) =>
        StateDictLoader.Assign(model, model.FromReferenceStateDict(source), origin, model.Shape,
            ignored: model.IsReferenceClassifierKey,
            mayBeAbsent: key => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal));
}
