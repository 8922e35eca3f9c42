using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// What TorchSharp's <c>BatchNorm2d.forward</c> does, with the counter step's scalars kept alive (docs/scalar-lifetime.md).
/// In training mode TorchSharp counts batches with <c>num_batches_tracked.add_(1)</c>, two temporary scalars per layer
/// and step that a collection on another thread can free mid-call; a suite run failed on it with "For integral input
/// tensors, argument alpha must not be a floating point number" (the freed alpha read back as a float). The modules stay
/// TorchSharp's, so parameter names, checkpoints, the weight loaders and the exporter are unchanged.
/// </summary>
internal static class KeptBatchNorm
{
    public static Tensor Forward(BatchNorm2d bn, Tensor x)
    {
        double factor = bn.momentum ?? 0.0;
        if (bn.training && bn.track_running_stats && bn.num_batches_tracked is { } count)
        {
            count.add_(KeptScalars.One, KeptScalars.One);
            if (bn.momentum is null) factor = 1.0 / count.item<long>();   // cumulative average, as TorchSharp does
        }
        bool useBatchStatistics = bn.training || (bn.running_mean is null && bn.running_var is null);
        bool passStatistics = !bn.training || bn.track_running_stats;
        return functional.batch_norm(x, passStatistics ? bn.running_mean : null, passStatistics ? bn.running_var : null,
                                     bn.weight, bn.bias, useBatchStatistics, factor, bn.eps);
    }

    /// <summary>A ResNet shortcut projection: the Sequential(1×1 conv, BatchNorm2d) that holds the weights.</summary>
    public static Tensor Projection(Sequential downsample, Tensor x) =>
        Forward((BatchNorm2d)downsample[1], ((Conv2d)downsample[0]).forward(x));
}
