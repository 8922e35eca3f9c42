using MLNet.FineTuning.Modeling;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a <see cref="VisionTransformer"/> (mirrors Modeling/VisionTransformer.cs and VitEncoder.cs) as inference ops:
/// the patch Conv, flattened to tokens; the class token broadcast to the batch and put first; the position table added;
/// per block LayerNorm, attention (<see cref="AttentionExporter"/>, no mask), residual Add, LayerNorm, MatMul, GELU, MatMul,
/// residual Add; then the class token's row through the final LayerNorm. Reads weights only; the module's training mode is
/// neither needed nor touched.
/// </summary>
/// <remarks>
/// The input projection <c>in_proj_weight</c> is written as three projections (its q, k and v thirds), the form the
/// shared attention writer takes. Only the class token is normalised at the end: LayerNorm works row by row, so the other
/// rows, which the features do not use, are not computed.
/// </remarks>
internal static class VisionTransformerExporter
{
    /// <summary>Appends the network to <paramref name="writer"/>.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="model">The backbone.</param>
    /// <param name="input">Name of a normalised float image value [N,3,S,S], S = <see cref="VisionTransformer.ImageSize"/>.</param>
    /// <returns>Name of the features [N, <see cref="VisionTransformer.HiddenDim"/>].</returns>
    public static string Write(OnnxGraphWriter writer, VisionTransformer model, string input)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = writer;
        long p = model.PatchSize, d = model.HiddenDim;
        var conv = model.ConvProj;
        string patches = w.Conv(input, w.AddTensorInitializer("conv_proj.weight", conv.weight!),
            conv.bias is null ? null : w.AddTensorInitializer("conv_proj.bias", conv.bias), [p, p], [0, 0, 0, 0]);
        // [N,D,g,g] → [N,D,g²] → [N,g²,D]: the module's flatten(2).transpose(1, 2).
        patches = w.Transpose(w.Reshape(patches, w.AddInt64Initializer("patch_rows_shape", [0, d, -1], 3)), [0, 2, 1]);
        // The class token [1,1,D] broadcast to [N,1,D]: N read from the input at run time, so the batch stays symbolic.
        string batch = w.Slice(w.Shape(input), w.AddInt64Initializer("zero_1d", [0], 1), w.AddInt64Initializer("one_1d", [1], 1));
        string tokenShape = w.Concat([batch, w.AddInt64Initializer("one_one", [1, 1], 2)], axis: 0);
        string classToken = w.Expand(w.AddTensorInitializer("class_token", model.ClassToken), tokenShape);
        var encoder = model.Encoder;
        string x = w.Add(w.Concat([classToken, patches], axis: 1), w.AddTensorInitializer("encoder.pos_embedding", encoder.PositionEmbedding));

        var attention = new AttentionExporter(w, model.Heads, model.HiddenDim);
        int index = 0;
        foreach (var block in encoder.Blocks)
            x = Block(w, x, block, attention, $"encoder.layers.encoder_layer_{index++}");

        // Row 0 alone ([N,D]: a scalar index drops the axis), then encoder.ln.
        string first = w.Gather(x, w.AddInt64Initializer("class_row", [0]), axis: 1);
        return LayerNormExporter.Write(w, first, encoder.Norm, "encoder.ln");
    }

    private static string Block(OnnxGraphWriter w, string x, VitEncoderBlock block, AttentionExporter attention, string prefix)
    {
        var self = block.Attention;
        string h = LayerNormExporter.Write(w, x, block.Ln1, $"{prefix}.ln_1");
        long d = self.InProjWeight.shape[1];
        string Projection(int i, string part) => LinearExporter.Write(w, h, self.InProjWeight.narrow(0, i * d, d),
            self.InProjBias.narrow(0, i * d, d), $"{prefix}.self_attention.in_proj_{part}");
        string context = attention.Write(Projection(0, "q"), Projection(1, "k"), Projection(2, "v"), additiveMask: null);
        x = w.Add(x, LinearExporter.Write(w, context, self.OutProj, $"{prefix}.self_attention.out_proj"));

        var (up, down) = block.Mlp;
        h = LayerNormExporter.Write(w, x, block.Ln2, $"{prefix}.ln_2");
        h = LinearExporter.Write(w, w.Gelu(LinearExporter.Write(w, h, up, $"{prefix}.mlp.0")), down, $"{prefix}.mlp.3");
        return w.Add(x, h);
    }
}
