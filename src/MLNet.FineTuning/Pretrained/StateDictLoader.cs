using System.Collections;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// The shared last step of every weight loader: read a state_dict file (.safetensors or a PyTorch pickle),
/// check a set of named tensors against a network as a whole, and only then copy them in, so that a
/// source that does not fit leaves the network untouched and the error lists every problem at once.
/// </summary>
internal static class StateDictLoader
{
    /// <summary>Whether <paramref name="path"/>'s extension is one of a PyTorch pickle (.pt, .pth, .bin).</summary>
    public static bool IsPickle(string path) => Path.GetExtension(path).ToLowerInvariant() is ".pt" or ".pth" or ".bin";

    /// <summary>Reads all tensors of a .safetensors file or a PyTorch state_dict pickle (into the caller's dispose scope).</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="ArgumentException">The extension is not .safetensors, .pt, .pth or .bin.</exception>
    /// <exception cref="InvalidDataException">The file cannot be read as a state_dict.</exception>
    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"The weights file '{path}' was not found.", path);
        bool pickle = IsPickle(path);
        if (!pickle && !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException(
                $"'{path}': weights must be a .safetensors file or a PyTorch state_dict pickle (.pt, .pth, .bin).", nameof(path));
        if (!pickle) SafetensorsHeader.Check(path);   // what the file declares, before the reader allocates it
        try
        {
            // The readers' own temporaries can be finalized mid-call without a scope (docs/scalar-lifetime.md); the tensors
            // read go on to the caller's scope, as before.
            using var scope = NewDisposeScope();
            var tensors = pickle ? FromPickle(PyTorchUnpickler.UnpickleStateDict(path), path) : Safetensors.LoadStateDict(path);
            scope.MoveToOuter(tensors.Values);
            return tensors;
        }
        // Whatever the readers throw (System.IO.Compression's InvalidDataException for a broken zip among them) becomes
        // one error that names the file; refusals of our own already do.
        catch (Exception e) when (e is not OutOfMemoryException && !(e is InvalidDataException && e.Message.Contains(path, StringComparison.Ordinal)))
        {
            throw new InvalidDataException($"'{path}' could not be read as a {(pickle ? "PyTorch pickle" : "safetensors")} state_dict: {e.Message}", e);
        }
    }

    /// <summary>
    /// Copies <paramref name="source"/> into <paramref name="model"/> after checking all of it: every key of
    /// the network's state_dict must be present (unless <paramref name="mayBeAbsent"/>; such entries are then
    /// zeroed), no other key may appear (unless <paramref name="ignored"/>), and each shape must be the
    /// network's. Lists every mismatch.
    /// </summary>
    /// <param name="model">The network to fill.</param>
    /// <param name="source">Tensors keyed by the network's state_dict names.</param>
    /// <param name="origin">Names the source (a path) in the message.</param>
    /// <param name="network">Names the network's shape in the message, e.g. "ResNet(basic, [2,2,2,2])".</param>
    /// <param name="ignored">Source keys that are dropped without complaint (a classifier the fine-tuned network replaces).</param>
    /// <param name="mayBeAbsent">Network keys a source may lack (counters older formats did not save).</param>
    /// <exception cref="InvalidDataException">Missing, unexpected or wrongly shaped keys; nothing was copied.</exception>
    public static void Assign(nn.Module model, IReadOnlyDictionary<string, Tensor> source, string origin, string network,
        Func<string, bool>? ignored = null, Func<string, bool>? mayBeAbsent = null) =>
        AssignTensors(model.state_dict(), source, origin, network, ignored, mayBeAbsent);

    /// <summary>
    /// The same check and copy into a chosen set of named tensors rather than a whole network's state_dict:
    /// the parts one file fills, such as LoRA adapters and a head (<c>LoraAdapterFile</c>).
    /// </summary>
    /// <param name="target">The tensors to fill, by the names the source uses; copied into in place.</param>
    /// <param name="source">Tensors keyed by the target's names.</param>
    /// <param name="origin">Names the source (a path) in the message.</param>
    /// <param name="network">Names what is filled in the message, e.g. "the LoRA adapter 'default' of BertEncoder(…)".</param>
    /// <param name="ignored">Source keys that are dropped without complaint.</param>
    /// <param name="mayBeAbsent">Target keys a source may lack; such entries are then zeroed.</param>
    /// <exception cref="InvalidDataException">Missing, unexpected or wrongly shaped keys; nothing was copied.</exception>
    public static void AssignTensors(IReadOnlyDictionary<string, Tensor> target, IReadOnlyDictionary<string, Tensor> source, string origin,
        string network, Func<string, bool>? ignored = null, Func<string, bool>? mayBeAbsent = null)
    {
        var missing = target.Keys.Where(k => !source.ContainsKey(k) && mayBeAbsent?.Invoke(k) != true).ToList();
        var unexpected = source.Keys.Where(k => !target.ContainsKey(k) && ignored?.Invoke(k) != true).ToList();
        var wrongShape = source.Where(s => target.TryGetValue(s.Key, out var t) && !t.shape.SequenceEqual(s.Value.shape))
            .Select(s => $"{s.Key} (file [{string.Join(",", s.Value.shape)}], network [{string.Join(",", target[s.Key].shape)}])")
            .ToList();
        if (missing.Count + unexpected.Count + wrongShape.Count > 0)
            throw new InvalidDataException(
                $"The weights in '{origin}' do not fit {network}; nothing was loaded." +
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
        // Holds the source tensors through the last copy_ when no scope or caller does (docs/scalar-lifetime.md).
        GC.KeepAlive(source);
    }

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
