using System.Text.Json.Nodes;
using MLNet.FineTuning.Onnx;
using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.CrashHost;

/// <summary>
/// What one save round writes into a folder, and how each file is read back and checked. Round r fills every
/// parameter with r, so a file that mixes two rounds, or a checkpoint whose files come from two rounds, is caught.
/// Shared by this program (which writes) and the tests (which check), so both agree on the names and the checks.
/// </summary>
public static class SavedRounds
{
    public const string CheckpointFolder = "checkpoint", BytesFile = "model.onnx", WeightsFile = "model.safetensors";
    /// <summary>The size of the ONNX-like file: large enough that writing it is a good share of a round, so that
    /// kills often land while it is written.</summary>
    public const int BytesLength = 32 << 20;

    /// <summary>A small network with a few megabytes of weights (about the size of a LoRA adapter or a small head).</summary>
    public static nn.Module<Tensor, Tensor> Model() => new TwoLayers();

    /// <summary>Two linear layers whose weights start at zero: making one draws nothing from TorchSharp's global
    /// generator, which seeded tests on other threads of the test process depend on (nn.Linear's initialisation draws).</summary>
    sealed class TwoLayers : nn.Module<Tensor, Tensor>
    {
        readonly TorchSharp.Modules.Parameter w1 = new(zeros(1024, 512)), b1 = new(zeros(1024)), w2 = new(zeros(512, 1024)), b2 = new(zeros(512));

        public TwoLayers() : base(nameof(TwoLayers)) => RegisterComponents();

        public override Tensor forward(Tensor x) => nn.functional.linear(nn.functional.relu(nn.functional.linear(x, w1, b1)), w2, b2);
    }

    public static void Fill(nn.Module model, long round)
    {
        using var _ = no_grad();
        foreach (var p in model.parameters()) p.fill_(round);
    }

    /// <summary>The round every parameter of <paramref name="model"/> holds; an error when they differ.</summary>
    public static long RoundOf(nn.Module model, string what)
    {
        using var scope = NewDisposeScope();   // the test host's other threads collect; temporaries stay held (docs/scalar-lifetime.md)
        var rounds = model.parameters().Select(p => (min: p.min().item<float>(), max: p.max().item<float>())).ToList();
        if (rounds.Any(r => r.min != r.max || r.min != rounds[0].min))
            throw new InvalidDataException($"{what} mixes rounds: {string.Join(", ", rounds)}");
        return (long)rounds[0].min;
    }

    public static void SaveCheckpoint(string folder, nn.Module model, optim.Optimizer optimizer, long round) =>
        Checkpoint.Save(Path.Combine(folder, CheckpointFolder), model, optimizer, new TrainingState((int)round, 0, round, null, 0, 0),
                        best: null, new JsonObject { ["round"] = round });

    /// <summary>Reads the checkpoint as a resume does (recovering an interrupted swap first); returns its round.</summary>
    public static long LoadCheckpoint(string folder)
    {
        string directory = Path.Combine(folder, CheckpointFolder);
        Checkpoint.Recover(directory);
        using var model = Model();
        var state = Checkpoint.LoadWeights(directory, model, out _, out _);
        using var optimizer = optim.AdamW(model.parameters());
        Checkpoint.LoadOptimizer(directory, optimizer);
        long round = RoundOf(model, "the checkpoint's weights");
        if (state.GlobalStep != round || (long)Checkpoint.ReadMetadata(directory)["round"]! != round)
            throw new InvalidDataException($"the checkpoint's files come from different rounds: weights {round}, state {state.GlobalStep}");
        return round;
    }

    /// <summary>Round r's bytes: a fixed pattern with r written at the start of every 4 KiB page, so that pages of two
    /// rounds, or a cut-off file, never pass for one round. Cheap to make: a round's time goes into writing it.</summary>
    public static byte[] Bytes(long round)
    {
        var bytes = (byte[])Pattern.Value.Clone();
        for (int page = 0; page < BytesLength; page += 4096) BitConverter.TryWriteBytes(bytes.AsSpan(page), round);
        return bytes;
    }

    static readonly Lazy<byte[]> Pattern = new(() =>
    {
        var bytes = new byte[BytesLength];
        new Random(1).NextBytes(bytes);
        return bytes;
    });

    public static void SaveBytes(string folder, long round) => AtomicFile.Write(Path.Combine(folder, BytesFile), Bytes(round), "ONNX model");

    /// <summary>The round of the ONNX-like file; an error unless it is exactly that round's bytes.</summary>
    public static long LoadBytes(string folder)
    {
        var bytes = File.ReadAllBytes(Path.Combine(folder, BytesFile));
        long round = bytes.Length >= 8 ? BitConverter.ToInt64(bytes) : -1;
        if (!bytes.AsSpan().SequenceEqual(Bytes(round)))
            throw new InvalidDataException($"{BytesFile} is not whole: {bytes.Length} bytes, starting as round {round}");
        return round;
    }

    public static void SaveWeights(string folder, nn.Module model) =>
        AtomicFile.Write(Path.Combine(folder, WeightsFile), "weights", temp => model.save_safetensors(temp));

    public static long LoadWeights(string folder)
    {
        using var model = Model();
        model.load_safetensors(Path.Combine(folder, WeightsFile), strict: true);
        return RoundOf(model, WeightsFile);
    }
}
