using MLNet.FineTuning.Modeling;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>A tiny BERT (2 layers, hidden 32) with random weights, inputs with padding, and fake Hugging Face folders.</summary>
internal static class BertTestKit
{
    public static BertConfig Tiny { get; } = new()
    {
        VocabSize = 100, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 64,
        MaxPositionEmbeddings = 16, TypeVocabSize = 2,
    };

    /// <summary>
    /// Every parameter drawn at random, LayerNorms included (a fresh LayerNorm's 1/0 would hide swapped
    /// weight and bias), small enough that the layers stay in their working range.
    /// </summary>
    public static BertEncoder Randomised(BertEncoder model, int seed)
    {
        var generator = new torch.Generator((ulong)seed);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var (_, p) in model.named_parameters()) p.copy_(randn(p.shape, generator: generator).mul_(0.3));
        return model;
    }

    /// <summary>Two sequences, the second padded: ids [2,s], mask [2,s], token types [2,s] (second segment of the first = 1).</summary>
    public static (Tensor Ids, Tensor Mask, Tensor Types) PaddedBatch(long[] first, long[] second, int segmentStart)
    {
        int s = Math.Max(first.Length, second.Length);
        long[] Pad(long[] ids) => [.. ids, .. Enumerable.Repeat(0L, s - ids.Length)];
        long[] Mask(long[] ids) => [.. Enumerable.Repeat(1L, ids.Length), .. Enumerable.Repeat(0L, s - ids.Length)];
        long[] types = [.. Enumerable.Range(0, s).Select(i => i >= segmentStart && i < first.Length ? 1L : 0L), .. Enumerable.Repeat(0L, s)];
        return (tensor([.. Pad(first), .. Pad(second)], [2, s]), tensor([.. Mask(first), .. Mask(second)], [2, s]), tensor(types, [2, s]));
    }

    /// <summary>Writes config.json, vocab.txt and the weights (named by <paramref name="weightsFile"/>) into <paramref name="folder"/>.</summary>
    public static void WriteFolder(string folder, BertConfig config, Dictionary<string, Tensor> weights, string weightsFile,
        string? tokenizerConfig = null)
    {
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJson());
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"),
            ["[PAD]", .. Enumerable.Range(1, config.VocabSize - 1).Select(i => $"tok{i}")]);
        if (tokenizerConfig is not null) File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), tokenizerConfig);
        string path = Path.Combine(folder, weightsFile);
        if (weightsFile.EndsWith(".safetensors")) Safetensors.SaveStateDict(path, weights);
        else PyTorchPickler.PickleStateDict(path, weights);
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        // The chain's temporaries are held by the scope through each native call, whether or not the caller has one.
        using var scope = NewDisposeScope();
        return a.sub(b).abs().max().item<float>();
    }
}
