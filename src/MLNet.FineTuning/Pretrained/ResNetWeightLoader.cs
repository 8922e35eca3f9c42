using System.Collections;
using Google.Protobuf;
using MLNet.FineTuning.Modeling;
using Onnx;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>Loads pretrained weights into a <see cref="ResNet"/>: the one weight loader for image backbones.</summary>
/// <remarks>
/// Every source is first turned into tensors under the network's state_dict keys, then checked as a whole
/// and only then copied, so a file that does not fit leaves the network untouched.
/// </remarks>
internal static class ResNetWeightLoader
{
    /// <summary>The NuGet package that ships the default ResNet-18 weights.</summary>
    public const string MlNetResNet18Package = "Microsoft.ML.DnnImageFeaturizer.ResNet18";

    // The torchvision/timm classifier: the fine-tuned network gets a new head, so these are dropped.
    private static readonly HashSet<string> ClassifierKeys = ["fc.weight", "fc.bias"];

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
        try
        {
            using var stream = File.OpenRead(onnxPath);
            onnx = ModelProto.Parser.ParseFrom(stream);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"'{onnxPath}' is not a readable ONNX model (damaged or truncated?): {e.Message}", e);
        }
        using var scope = NewDisposeScope();
        Assign(model, MlNetResNetOnnxMap.ToStateDict(onnx, model, onnxPath), onnxPath);
    }

    /// <summary>Loads torchvision/timm state_dict keys from .safetensors or a PyTorch pickle; ignores the classifier (fc.*).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">The extension is not .safetensors, .pt, .pth or .bin.</exception>
    /// <exception cref="InvalidDataException">Unreadable file, or keys/shapes that do not fit the network (all listed).</exception>
    public static void LoadTorchvision(ResNet model, string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The weights file '{path}' was not found.", path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        bool pickle = extension is ".pt" or ".pth" or ".bin";
        if (!pickle && extension != ".safetensors")
            throw new ArgumentException(
                $"'{path}': weights must be a .safetensors file or a PyTorch state_dict pickle (.pt, .pth, .bin).", nameof(path));
        using var scope = NewDisposeScope();
        Dictionary<string, Tensor> tensors;
        try
        {
            tensors = pickle ? FromPickle(PyTorchUnpickler.UnpickleStateDict(path), path) : Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"'{path}' could not be read as a {(pickle ? "PyTorch pickle" : "safetensors")} state_dict: {e.Message}", e);
        }
        Assign(model, tensors, path);
    }

    /// <summary>
    /// Copies <paramref name="source"/> into the network after checking all of it: every parameter and
    /// buffer must be present (num_batches_tracked may be absent: it is then reset to 0), and no key beyond
    /// those and the classifier may appear, each with the network's shape. Lists every mismatch.
    /// </summary>
    internal static void Assign(ResNet model, IReadOnlyDictionary<string, Tensor> source, string origin)
    {
        var target = model.state_dict();
        var missing = target.Keys.Where(k => !source.ContainsKey(k) && !IsBatchCounter(k)).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k) && !ClassifierKeys.Contains(k)).ToList();
        var wrongShape = source.Where(s => target.TryGetValue(s.Key, out var t) && !t.shape.SequenceEqual(s.Value.shape))
            .Select(s => $"{s.Key} (file [{string.Join(",", s.Value.shape)}], network [{string.Join(",", target[s.Key].shape)}])")
            .ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
            throw new InvalidDataException(
                $"The weights in '{origin}' do not fit ResNet({(model.Bottleneck ? "bottleneck" : "basic")}, " +
                $"[{string.Join(",", model.Blocks)}]); nothing was loaded." +
                List("missing", missing) + List("unexpected", unexpected) + List("wrong shape", wrongShape));
        using (no_grad())
        {
            foreach (var (key, tensor) in target)
            {
                // copy_ converts dtype (fp16/bf16 files) and device (a network already on a GPU).
                if (source.TryGetValue(key, out var value)) tensor.copy_(value);
                else tensor.zero_();
            }
        }
    }

    private static bool IsBatchCounter(string key) => key.EndsWith(".num_batches_tracked", StringComparison.Ordinal);

    private static string List(string what, List<string> keys) =>
        keys.Count == 0 ? "" : $"{Environment.NewLine}  {what} ({keys.Count}): {string.Join(", ", keys)}";

    /// <summary>A pickled state_dict, or a checkpoint that wraps one under "state_dict" or "model".</summary>
    private static Dictionary<string, Tensor> FromPickle(Hashtable table, string path)
    {
        foreach (var wrapper in new[] { "state_dict", "model" })
            if (table[wrapper] is Hashtable inner) return FromPickle(inner, path);
        var tensors = new Dictionary<string, Tensor>();
        var other = new List<string>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is string key && entry.Value is Tensor t) tensors[key] = t;
            else other.Add($"{entry.Key} ({entry.Value?.GetType().Name ?? "null"})");
        }
        if (other.Count > 0)
            throw new InvalidDataException($"'{path}' holds entries that are not tensors: {string.Join(", ", other)}.");
        return tensors;
    }
}
