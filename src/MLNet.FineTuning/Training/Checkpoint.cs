using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Onnx;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>Where the loop is: enough to resume exactly (with the epoch-derived seeds of the batch sources).</summary>
internal sealed record TrainingState(int Epoch, int StepInEpoch, long GlobalStep, double? BestMetric, int BestEpoch, int EpochsWithoutImprovement);

/// <summary>
/// A training checkpoint folder: <c>model.safetensors</c> (the whole state dict, readable by PyTorch),
/// <c>best.safetensors</c> (best weights so far, when there is validation data), <c>optimizer.bin</c>
/// (TorchSharp's optimizer state), <c>average.safetensors</c> (the moving average of the weights, when on), and <c>checkpoint.json</c> (loop position plus the estimator's metadata:
/// options, class names, backbone). Written to a sibling temporary folder first and then swapped in, so a
/// crash never leaves a half-written checkpoint behind.
/// </summary>
internal static class Checkpoint
{
    public const string ModelFile = "model.safetensors", BestFile = "best.safetensors", AverageFile = "average.safetensors",
                        OptimizerFile = "optimizer.bin", StateFile = "checkpoint.json", GeneratorFile = "generator.bin";

    public static void Save(string directory, nn.Module model, optim.Optimizer optimizer, TrainingState state,
        IReadOnlyDictionary<string, Tensor>? best, JsonObject metadata, IReadOnlyDictionary<string, Tensor>? weights = null,
        IReadOnlyDictionary<string, Tensor>? average = null, Tensor? generator = null)
    {
        directory = Path.GetFullPath(directory);
        Recover(directory);
        string tmp = directory + ".tmp-" + Environment.ProcessId, old = directory + ".old-" + Environment.ProcessId;
        try
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            Directory.CreateDirectory(tmp);
            // Contiguous copies of channels-last kernels (the safetensors writer reads raw bytes and refuses them).
            var copies = new List<Tensor>();
            try
            {
                void Write(string file, IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
                    TorchSharp.PyBridge.Safetensors.SaveStateDict(Path.Combine(tmp, file), Modeling.ChannelsLast.Contiguous(tensors, copies));
                Write(ModelFile, weights ?? (IEnumerable<KeyValuePair<string, Tensor>>)model.state_dict());
                if (best != null) Write(BestFile, best);
                if (average != null) Write(AverageFile, average);
            }
            finally
            {
                foreach (var copy in copies) copy.Dispose();
            }
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(Path.Combine(tmp, OptimizerFile));
            // TorchSharp's CPU generator (dropout) as the last step left it, for a resume in the middle of an epoch.
            if (generator is not null) File.WriteAllBytes(Path.Combine(tmp, GeneratorFile), generator.data<byte>().ToArray());
            var json = new JsonObject
            {
                ["format"] = "MLNet.FineTuning.Checkpoint/1",
                ["state"] = JsonSerializer.SerializeToNode(state),
                ["metadata"] = metadata.DeepClone(),
            };
            File.WriteAllText(Path.Combine(tmp, StateFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            // On the disk before the swap: otherwise a power cut could leave the new name on files not yet written.
            foreach (var file in Directory.GetFiles(tmp)) AtomicFile.FlushToDisk(file);
            // A kill between these two moves leaves the previous checkpoint as <directory>.old-<pid>; Recover puts it back.
            if (Directory.Exists(directory)) Directory.Move(directory, old);
            Directory.Move(tmp, directory);
            if (Directory.Exists(old)) Directory.Delete(old, true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
            throw new IOException($"Could not write the checkpoint folder '{directory}': {e.Message}", e);
        }
    }

    /// <summary>Reads the estimator metadata without touching weights (to rebuild the right model first).</summary>
    public static JsonObject ReadMetadata(string directory) => (JsonObject)ReadJson(directory)["metadata"]!;

    /// <summary>Weights, best weights, the weights' moving average (when saved) and loop position; the optimizer state comes after the optimizer exists
    /// (<see cref="LoadOptimizer"/>), which under bf16 is only after the masters are made from these weights.</summary>
    public static TrainingState LoadWeights(string directory, nn.Module model, out Dictionary<string, Tensor>? best, out Dictionary<string, Tensor>? average)
    {
        var json = ReadJson(directory);
        // A checkpoint to resume from may come from elsewhere: each file's header is checked before it is read.
        model.load_safetensors(Checked(Path.Combine(directory, ModelFile)), strict: true);
        string bestPath = Path.Combine(directory, BestFile);
        best = File.Exists(bestPath) ? TorchSharp.PyBridge.Safetensors.LoadStateDict(Checked(bestPath)) : null;
        string averagePath = Path.Combine(directory, AverageFile);
        average = File.Exists(averagePath) ? TorchSharp.PyBridge.Safetensors.LoadStateDict(Checked(averagePath)) : null;
        return json["state"].Deserialize<TrainingState>()
            ?? throw new InvalidDataException($"{Path.Combine(directory, StateFile)} has no training state.");
    }

    static string Checked(string path)
    {
        Pretrained.SafetensorsHeader.Check(path);
        return path;
    }

    /// <summary>The generator state a checkpoint written in the middle of an epoch holds (a uint8 tensor for
    /// <c>set_rng_state</c>), or null. Call after <see cref="LoadWeights"/>, which recovers an interrupted save.</summary>
    public static Tensor? LoadGeneratorState(string directory)
    {
        string path = Path.Combine(directory, GeneratorFile);
        return File.Exists(path) ? tensor(File.ReadAllBytes(path), dtype: ScalarType.Byte) : null;
    }

    public static void LoadOptimizer(string directory, optim.Optimizer optimizer) =>
        ((TorchSharp.Modules.OptimizerHelper)optimizer).load_state_dict(Path.Combine(directory, OptimizerFile));

    /// <summary>
    /// Undoes an interrupted <see cref="Save"/>: when <paramref name="directory"/> holds no checkpoint but a sibling
    /// <c>&lt;directory&gt;.old-&lt;pid&gt;</c> does (the process was killed between moving the previous checkpoint aside
    /// and moving the new one in), the newest such sibling becomes the checkpoint again. Half-written
    /// <c>.tmp-&lt;pid&gt;</c> siblings are never used.
    /// </summary>
    public static void Recover(string directory)
    {
        directory = Path.GetFullPath(directory);
        string? parent = Path.GetDirectoryName(directory);
        if (parent == null || !Directory.Exists(parent)) return;
        // Temporary folders of processes that were killed while writing: never a checkpoint, only disk space. One whose
        // process still runs is that process's save in progress (AtomicFile's rule for temporary files).
        foreach (var stale in Directory.GetDirectories(parent, Path.GetFileName(directory) + ".tmp-*"))
            if (WriterIsGone(stale)) TryDelete(stale);
        if (File.Exists(Path.Combine(directory, StateFile)))
        {
            // A kill after the new checkpoint moved in and before the previous one was deleted leaves that one aside.
            foreach (var old in Directory.GetDirectories(parent, Path.GetFileName(directory) + ".old-*"))
                if (WriterIsGone(old)) TryDelete(old);
            return;
        }
        var previous = Directory.GetDirectories(parent, Path.GetFileName(directory) + ".old-*")
            .Where(d => File.Exists(Path.Combine(d, StateFile)))
            .OrderByDescending(d => File.GetLastWriteTimeUtc(Path.Combine(d, StateFile)))
            .FirstOrDefault();
        if (previous == null) return;
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);   // empty or partial: not a checkpoint
        Directory.Move(previous, directory);
    }

    /// <summary>Whether the process named by a <c>.tmp-&lt;pid&gt;</c> or <c>.old-&lt;pid&gt;</c> folder's suffix no longer runs.</summary>
    private static bool WriterIsGone(string folder) =>
        int.TryParse(folder.AsSpan(folder.LastIndexOf('-') + 1), out int pid) && AtomicFile.ProcessIsGone(pid);

    private static void TryDelete(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next save: it is never read.
        }
    }

    private static JsonObject ReadJson(string directory)
    {
        Recover(directory);
        string path = Path.Combine(directory, StateFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"'{directory}' is not a MLNet.FineTuning checkpoint: {StateFile} is missing.", path);
        var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        if (json?["format"]?.GetValue<string>() != "MLNet.FineTuning.Checkpoint/1" || json["metadata"] is not JsonObject)
            throw new InvalidDataException($"{path} is not a MLNet.FineTuning checkpoint (format MLNet.FineTuning.Checkpoint/1 expected).");
        return json;
    }
}
