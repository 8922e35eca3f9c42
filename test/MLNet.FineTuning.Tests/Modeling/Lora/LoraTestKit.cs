using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling.Lora;

/// <summary>Adapters with trained-looking (non-zero) A and B, drawn from a seeded generator so tests running in parallel do not share the global one.</summary>
internal static class LoraTestKit
{
    public static void Randomise(LoraLinear module, string adapter, torch.Generator generator, double scale = 0.2)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        foreach (var w in new[] { module.LoraA(adapter).weight!, module.LoraB(adapter).weight! })
            w.copy_(randn(w.shape, generator: generator).mul_(scale));
    }

    public static void Randomise(LoraInjector lora, string adapter, int seed, double scale = 0.2)
    {
        var generator = new torch.Generator((ulong)seed);
        foreach (var (_, m) in lora.ModulesWith(adapter)) Randomise(m, adapter, generator, scale);
    }

    /// <summary>A tiny encoder with random weights, in eval mode, and a padded batch for it.</summary>
    public static BertEncoder Encoder(int seed, bool pooler = false)
    {
        var model = BertTestKit.Randomised(new BertEncoder(BertTestKit.Tiny, pooler), seed);
        model.eval();
        return model;
    }

    public static (Tensor Ids, Tensor Mask, Tensor Types) Batch() =>
        BertTestKit.PaddedBatch([2, 5, 6, 3, 9, 11], [2, 7, 3], segmentStart: 3);

    public static Tensor Forward(BertEncoder model)
    {
        // The batch is held by the scope through the forward; the output goes on to the caller's scope (or none).
        using var scope = NewDisposeScope();
        var (ids, mask, types) = Batch();
        using var _ = no_grad();
        return model.forward(ids, mask, types).MoveToOuterDisposeScope();
    }
}
