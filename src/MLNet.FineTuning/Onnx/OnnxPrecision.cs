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
    /// Dynamic int8 quantization of the encoder's feed-forward projections (two thirds of its multiply-adds; the
    /// attention projections stay float32 so that ONNX Runtime keeps fusing attention; see the remarks of <see cref="LoraTextClassifierTransformer.SaveOnnx(string, OnnxPrecision)"/>):
    /// weights stored as int8 per output column, activations quantized to uint8 per batch at run time, in standard
    /// ONNX ops (DynamicQuantizeLinear, MatMulInteger) that ONNX Runtime fuses into its integer GEMM kernels.
    /// Faster on CPUs with int8 dot-product instructions (AVX512-VNNI, AVX-VNNI); probabilities move by a few
    /// hundredths on average and more near a class boundary (docs/text-saved-model.md).
    /// </summary>
    Int8,
}
