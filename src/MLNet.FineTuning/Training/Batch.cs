using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>One mini-batch: model inputs (images, or token ids and masks) and 0-based class labels, on the CPU (or, for inputs
/// a source keeps there, already on the training device: the loop moves what is not).</summary>
internal sealed class Batch : IDisposable
{
    public Batch(Tensor[] inputs, Tensor labels)
    {
        Inputs = inputs;
        Labels = labels;
    }

    public Tensor[] Inputs { get; }
    /// <summary>int64 [n], 0-based class index.</summary>
    public Tensor Labels { get; }
    public int Count => (int)Labels.shape[0];

    public void Dispose()
    {
        foreach (var t in Inputs) t.Dispose();
        Labels.Dispose();
    }
}

/// <summary>Produces the batches of one epoch. Implementations own their decoding and prefetching, and what they keep
/// between epochs (disposing the source frees it).</summary>
internal interface IBatchSource : IDisposable
{
    /// <summary>Rows per epoch.</summary>
    long RowCount { get; }

    /// <summary>Nothing to free unless a source keeps something (<see cref="Data.ImageBatchSource"/> its pixels).</summary>
    void IDisposable.Dispose() { }

    /// <summary>The batches of <paramref name="epoch"/> (0-based). Training sources shuffle and augment with a
    /// seed derived from the epoch, so an epoch can be replayed exactly (resume); evaluation sources do neither.
    /// The caller disposes each batch.</summary>
    IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation);
}

/// <summary>A network the loop can fine-tune: a backbone (or its adapters) and a head with separate learning rates.</summary>
internal interface IFineTunable
{
    /// <summary>The whole network: its state dict is what checkpoints and best-weights restore save.</summary>
    TorchSharp.torch.nn.Module Module { get; }
    /// <summary>Parameters trained at <c>LearningRate × BackboneLearningRateFactor</c>, read from the module on each
    /// access (moving a module to another device or dtype replaces its Parameter objects).</summary>
    IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> BackboneParameters { get; }
    /// <summary>Parameters trained at <c>LearningRate</c>.</summary>
    IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> HeadParameters { get; }
    /// <summary>State-dict keys that weight interpolation (<c>WeightInterpolation</c>) blends between their starting and
    /// fine-tuned values: what fine-tuning changed in the pretrained network, never the new head.</summary>
    IReadOnlyList<string> InterpolatedState { get; }
    /// <summary>Layer groups of the backbone, from the input (0) to the output (<c>LayerCount − 1</c>): what layer-wise
    /// rate decay and gradual unfreezing count in.</summary>
    int LayerCount { get; }
    /// <summary>The layer group of a backbone parameter (by its name in <see cref="BackboneParameters"/>).</summary>
    int LayerOf(string backboneParameterName);
    /// <summary>Whether a multi-dimensional parameter (by its name in <see cref="BackboneParameters"/> or
    /// <see cref="HeadParameters"/>) takes weight decay; one-dimensional ones (biases, norms) never do.</summary>
    bool DecaysWeight(string parameterName) => true;
    /// <summary>Training mode; a frozen backbone gets no gradients and keeps its normalisation statistics.</summary>
    void SetTrainingMode(bool backboneFrozen);
    /// <summary>Inputs already on the device (floating-point ones in fp32) → logits [n, K] in the network's compute
    /// type: the implementation casts what it feeds the network to its parameters' dtype (bf16 under mixed precision).</summary>
    Tensor Forward(Tensor[] inputs);
}
