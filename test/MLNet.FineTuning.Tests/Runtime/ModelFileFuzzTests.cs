using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Runtime.Onnx;
using MLNet.FineTuning.Tests.Modeling;
using MLNet.FineTuning.Tests.Pretrained;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Seeded mutants (<see cref="ByteMutations"/>) of real model files through the readers that take them from users:
/// safetensors and PyTorch pickles through the one weight reader (<c>StateDictLoader.Read</c>: backbones, BERT
/// folders, adapters, checkpoints), and an exported model.onnx through the runtime's <see cref="ExportedClassifier"/>.
/// Each mutant is read or refused with <see cref="InvalidDataException"/> naming the file; nothing else is thrown and
/// the process lives.
/// </summary>
public class ModelFileFuzzTests
{
    [Theory]
    [InlineData("model.safetensors", 400, 21)]
    [InlineData("pytorch_model.bin", 400, 22)]
    public void WeightReader_MutatedStateDictFiles_ReadOrRefusedByName(string name, int count, int seed)
    {
        using var dir = new TempDirectory();
        using var source = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny), seed: 1);
        string original = dir.File(name);
        if (name.EndsWith(".safetensors")) Safetensors.SaveStateDict(original, source.state_dict());
        else PyTorchPickler.PickleStateDict(original, source.state_dict());
        var bytes = File.ReadAllBytes(original);
        string path = dir.File("mutant" + Path.GetExtension(name));

        var (read, refused) = Fuzz(bytes, path, count, seed, p =>
        {
            using var scope = NewDisposeScope();
            StateDictLoader.Read(p);
        });

        Assert.True(read > 10 && refused > 10, $"read {read}, refused {refused}: the mutants must exercise both outcomes");
    }

    [Fact]
    public void ExportedClassifier_MutatedModelOnnx_LoadsAndScoresOrIsRefusedByName()
    {
        using var dir = new TempDirectory();
        using var model = new Classifier(new ResNet(false, [1, 1, 1, 1]), new ClassifierHead(512, 3, 0));
        var bytes = ImageClassifierExporter.Export(model, ImagePreprocessing.ImageNet, 32, ["a", "b", "c"]);
        string path = dir.File("model.onnx");
        var pixels = new float[3 * 32 * 32];

        var (read, refused) = Fuzz(bytes, path, 60, 23, p =>
        {
            using var classifier = ExportedClassifier.Load(p);
            classifier.PredictPixels(pixels, 1);
        });

        Assert.True(read > 5 && refused > 5, $"read {read}, refused {refused}: the mutants must exercise both outcomes");
    }

    /// <summary><see cref="ByteMutations.FuzzFile"/> where the only refusal is an InvalidDataException naming the file.</summary>
    private static (int Read, int Refused) Fuzz(byte[] original, string path, int count, int seed, Action<string> readFile) =>
        ByteMutations.FuzzFile(original, path, count, seed, readFile,
            e => e is InvalidDataException && e.Message.Contains(Path.GetFileName(path)));
}
