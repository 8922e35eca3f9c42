using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Pretrained;

/// <summary>Loads pretrained weights into a <see cref="ResNet"/>: the one weight loader for image backbones.</summary>
internal static class ResNetWeightLoader
{
    /// <summary>Where Microsoft.ML.DnnImageFeaturizer.ResNet18's build props lay the ONNX file out.</summary>
    public static string DefaultMlNetResNet18Path =>
        Path.Combine(AppContext.BaseDirectory, "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");

    /// <summary>Maps the initializers of ML.NET's ResNet18.onnx (CNTK export) onto a [2,2,2,3] BasicBlock ResNet.</summary>
    public static void LoadMlNetOnnx(ResNet model, string onnxPath) => throw new NotImplementedException();

    /// <summary>Loads torchvision/timm state_dict keys from .safetensors or a PyTorch pickle; ignores the classifier (fc.*).</summary>
    public static void LoadTorchvision(ResNet model, string path) => throw new NotImplementedException();
}
