namespace MLNet.FineTuning;

/// <summary>
/// The arithmetic of a text classifier's ONNX export (<see cref="LoraTextClassifierTransformer.SaveOnnx(string, OnnxPrecision)"/>).
/// </summary>
public enum OnnxPrecision
{
    /// <summary>
    /// The default: every weight float32, the graph that <c>Transform</c> and the saved ML.NET model run; ONNX Runtime's
    /// probabilities equal TorchSharp's within 1e-4.
    /// </summary>
    Float32,

    /// <summary>
    /// Dynamic int8 quantization of the encoder's feed-forward and attention-output projections (three quarters of
    /// its multiply-adds; see the remarks of <see cref="LoraTextClassifierTransformer.SaveOnnx(string, OnnxPrecision)"/>):
    /// weights stored as int8 per output column, activations quantized to uint8 per batch at run time, in standard
    /// ONNX ops (DynamicQuantizeLinear, MatMulInteger) that ONNX Runtime fuses into its integer GEMM kernels.
    /// Faster on CPUs with int8 dot-product instructions (AVX512-VNNI, AVX-VNNI); probabilities move by up to a few
    /// hundredths (docs/text-saved-model.md).
    /// </summary>
    Int8,
}
