using System.Runtime.InteropServices;

namespace MLNet.FineTuning.Training;

/// <summary>
/// A step of training or validation asked libtorch for more memory than the device had (CUDA's "out of memory", or the
/// CPU allocator's "can't allocate memory"). The message names the device, the phase, the step, the batch (its rows and
/// input shapes), a smaller batch size that keeps the same effective batch through gradient accumulation and, when
/// image pixels are kept on the device, how much they take; the libtorch error is the inner exception. Thrown from the
/// step where it happened; the checkpoints written before it stay as they were.
/// </summary>
public sealed class TrainingOutOfMemoryException : InvalidOperationException
{
    internal TrainingOutOfMemoryException(string device, string phase, int rows, IReadOnlyList<long[]> inputShapes, int batchSize,
                                          int accumulationSteps, string where, Exception inner)
        : base($"Out of memory on {device} in {phase}{where} with a batch of {rows} rows (inputs {Shapes(inputShapes)}; BatchSize = {batchSize}). " +
               $"{Advice(batchSize, accumulationSteps)}{Kept(device)} (libtorch: {FirstLine(inner.Message)})", inner)
    {
        Device = device;
        BatchSize = batchSize;
        Rows = rows;
        SuggestedBatchSize = Math.Max(1, batchSize / 2);
    }

    /// <summary>The device that ran out of memory ("cpu", "cuda:0", ...).</summary>
    public string Device { get; }

    /// <summary>The options' batch size.</summary>
    public int BatchSize { get; }

    /// <summary>The rows of the batch that did not fit (the batch size, or fewer for an epoch's last batch).</summary>
    public int Rows { get; }

    /// <summary>Half the batch size (1 at least): what the message suggests.</summary>
    public int SuggestedBatchSize { get; }

    /// <summary>True when <paramref name="e"/> is libtorch's allocation failure: TorchSharp raises libtorch's errors as
    /// <see cref="ExternalException"/> with libtorch's message, which is all there is to tell them apart.</summary>
    internal static bool IsOutOfMemory(Exception e) =>
        e is ExternalException
        && (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)      // CUDA's caching allocator
            || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)  // DefaultCPUAllocator (libtorch 2.10)
            || e.Message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase)      // its older wording
            || e.Message.Contains("ALLOC_FAILED", StringComparison.Ordinal));             // cuBLAS / cuDNN workspaces

    private static string Advice(int batchSize, int accumulationSteps)
    {
        if (batchSize <= 1)
            return "BatchSize is already 1: use a smaller image size or maximum text length, a smaller backbone, or bf16 Precision on a GPU.";
        int half = batchSize / 2, steps = 2 * accumulationSteps;
        return $"Set BatchSize = {half} and GradientAccumulationSteps = {steps}: an optimizer step then still averages {half * steps} rows " +
               $"(now {batchSize * accumulationSteps}). A smaller image size or maximum text length, or bf16 Precision on a GPU, also lowers what a step needs.";
    }

    /// <summary>The image pixels kept on the device, which a smaller cache budget gives back without changing the batch.</summary>
    private static string Kept(string device) => KeptDeviceMemory.Bytes(device) is > 0 and long kept
        ? $" Pixels of image rows kept on {device} across epochs take {kept / 1048576.0:0.#} MiB: an ImageCacheMegabytes below that resamples them every epoch instead (slower, same results)."
        : "";

    private static string Shapes(IReadOnlyList<long[]> shapes) => string.Join(", ", shapes.Select(s => $"[{string.Join(", ", s)}]"));

    private static string FirstLine(string message)
    {
        int end = message.IndexOfAny(['\r', '\n']);
        return end < 0 ? message : message[..end];
    }
}
