namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Multi-head scaled dot-product attention from projected queries, keys and values: softmax(q·kᵀ/√d [+ mask])·v per
/// head. Written once for the encoders that export it (<see cref="BertExporter"/>, <see cref="VisionTransformerExporter"/>).
/// </summary>
/// <remarks>
/// The shape of Hugging Face's BERT export, which ONNX Runtime's <c>AttentionFusion</c> matches node by node and replaces
/// with one <c>com.microsoft.Attention</c> kernel when a mask is present (Q, K and V weights packed into one GEMM, no
/// [b,h,s,s] tensors written between ops): each projection Reshaped to [0,0,h,d] by a constant, Transposed (0,2,1,3), or
/// (0,2,3,1) for k; the scores divided by √d after the product (not q scaled before it), Add of the mask, Softmax on axis
/// 3; the context transposed back and reshaped by a constant [0,0,hidden]. Any other arrangement of the same arithmetic
/// runs as separate ops.
/// </remarks>
internal sealed class AttentionExporter
{
    private readonly OnnxGraphWriter w;
    private readonly string splitShape, mergeShape, scale;

    /// <summary>Writes the constants every layer shares: [b,s,hidden] ↔ [b,s,heads,headSize] (0 copies b and s from the
    /// input) and √headSize.</summary>
    public AttentionExporter(OnnxGraphWriter writer, int heads, int hiddenSize)
    {
        w = writer;
        int headSize = hiddenSize / heads;
        splitShape = w.AddInt64Initializer("heads_shape", [0, 0, heads, headSize], 4);
        mergeShape = w.AddInt64Initializer("hidden_shape", [0, 0, hiddenSize], 3);
        scale = w.AddFloatInitializer("attention_scale", [MathF.Sqrt(headSize)]);
    }

    /// <summary>Appends one attention over projected <paramref name="q"/>, <paramref name="k"/>, <paramref name="v"/>
    /// [b,s,hidden]; <paramref name="additiveMask"/> [b,1,1,s] or null for none.</summary>
    /// <returns>Name of the context [b,s,hidden] (before the output projection).</returns>
    public string Write(string q, string k, string v, string? additiveMask)
    {
        string Heads(string x, long[] perm) => w.Transpose(w.Reshape(x, splitShape), perm);
        string scores = w.Div(w.MatMul(Heads(q, [0, 2, 1, 3]), Heads(k, [0, 2, 3, 1])), scale);   // [b,h,s,s]
        if (additiveMask is not null) scores = w.Add(scores, additiveMask);
        string context = w.Transpose(w.MatMul(w.Softmax(scores, axis: 3), Heads(v, [0, 2, 1, 3])), [0, 2, 1, 3]);   // [b,s,h,d]
        return w.Reshape(context, mergeShape);
    }
}
