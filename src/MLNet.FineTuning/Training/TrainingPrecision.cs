namespace MLNet.FineTuning.Training;

/// <summary>Number format of the forward and backward passes while training.</summary>
public enum TrainingPrecision
{
    /// <summary><see cref="BFloat16"/> on a CUDA device, <see cref="Float32"/> on the CPU (the default).</summary>
    Auto,
    /// <summary>Everything in fp32 (on CUDA, matrix products may still use TF32 where libtorch allows it).</summary>
    Float32,
    /// <summary>
    /// Mixed precision by hand (TorchSharp has no autocast): the network computes in bf16 while the optimizer keeps
    /// fp32 master copies of the trained weights, so small updates are not rounded away; the loss is taken in
    /// fp32, and the fitted model (ONNX export, checkpoints, best weights) is fp32. No loss scaling is needed:
    /// bf16 has fp32's exponent range. On the CPU it works but is slower than fp32.
    /// </summary>
    BFloat16,
}
