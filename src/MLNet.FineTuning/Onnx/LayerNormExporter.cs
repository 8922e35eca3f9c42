using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>Writes a TorchSharp <c>LayerNorm</c> over the last axis (<see cref="OnnxGraphWriter.LayerNormalization"/>) with
/// the module's ε and its scale and shift as initializers, 1 and 0 where the module has none.</summary>
internal static class LayerNormExporter
{
    /// <param name="writer">The graph being written.</param>
    /// <param name="x">Name of a float value [..., width].</param>
    /// <param name="norm">The module.</param>
    /// <param name="name">Its qualified name, for initializer names.</param>
    /// <returns>Name of the normalised value, the shape of <paramref name="x"/>.</returns>
    public static string Write(OnnxGraphWriter writer, string x, LayerNorm norm, string name)
    {
        using var scope = NewDisposeScope();
        long width = norm.normalized_shape[^1];
        var weight = norm.weight ?? ones(width);
        var bias = norm.bias ?? zeros(width);
        // The ONNX attribute is a float32: BERT's 1e-12 and the ViTs' 1e-6 are normal float32 values.
        return writer.LayerNormalization(x, writer.AddTensorInitializer($"{name}.weight", weight),
            writer.AddTensorInitializer($"{name}.bias", bias), epsilon: (float)norm.eps);
    }
}
