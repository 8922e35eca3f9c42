using System.Globalization;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Onnx;

/// <summary>
/// Writes a <see cref="BertEncoder"/> (mirrors Modeling/BertEncoder.cs and Modeling/Bert/*) as inference ops:
/// embeddings, then per layer self-attention, output dense + residual + LayerNorm, feed-forward, output
/// dense + residual + LayerNorm. Dropout is the identity at inference and is not written.
/// </summary>
/// <remarks>
/// Weights are read by their state_dict names (<c>encoder.layer.0.attention.self.query</c>, …), the same names
/// checkpoints load by, so a module in a projection's slot that is not a plain <c>Linear</c> — a LoRA wrapper
/// that was not merged — is refused by name rather than silently skipped. Like <see cref="ResNetExporter"/>,
/// it reads weights only: the module's training mode is neither needed nor touched, and the graph computes
/// what the module computes in eval mode. The pooler, if any, is not written (classifiers pool themselves).
/// </remarks>
internal static class BertExporter
{
    /// <summary>Name of the int64 [batch, sequence] token id input.</summary>
    public const string InputIdsInput = ExportedModelContract.InputIdsInput;

    /// <summary>Name of the int64 [batch, sequence] input: 1 for tokens, 0 for padding.</summary>
    public const string AttentionMaskInput = ExportedModelContract.AttentionMaskInput;

    /// <summary>Name of the int64 [batch, sequence] segment id input (zeros for one sentence).</summary>
    public const string TokenTypeIdsInput = ExportedModelContract.TokenTypeIdsInput;

    /// <summary>The symbolic batch dimension.</summary>
    public const string BatchDim = ExportedModelContract.BatchDim;

    /// <summary>The symbolic sequence dimension.</summary>
    public const string SequenceDim = "sequence";

    /// <summary>Declares the three int64 [batch, sequence] inputs, with the names Hugging Face's exports use.</summary>
    public static (string InputIds, string AttentionMask, string TokenTypeIds) AddInputs(OnnxGraphWriter writer) =>
        (writer.AddInput(InputIdsInput, DataType.Int64, BatchDim, SequenceDim),
         writer.AddInput(AttentionMaskInput, DataType.Int64, BatchDim, SequenceDim),
         writer.AddInput(TokenTypeIdsInput, DataType.Int64, BatchDim, SequenceDim));

    /// <summary>Appends the encoder to <paramref name="writer"/>.</summary>
    /// <param name="writer">The graph being written.</param>
    /// <param name="encoder">The encoder; a sequence longer than its max_position_embeddings fails in ONNX Runtime.</param>
    /// <param name="inputIds">Name of the int64 [batch, sequence] token ids.</param>
    /// <param name="attentionMask">Name of the int64 [batch, sequence] mask (1 token, 0 padding).</param>
    /// <param name="tokenTypeIds">Name of the int64 [batch, sequence] segment ids.</param>
    /// <returns>Name of the last hidden state, float [batch, sequence, hidden]; rows at padded positions are meaningless.</returns>
    /// <exception cref="NotSupportedException">A module is not what <see cref="BertEncoder"/> builds (named), e.g. an unmerged LoRA layer.</exception>
    /// <param name="int8">Which projections to write dynamically quantized (<see cref="LinearExporter.WriteInt8"/>).</param>
    public static string Write(OnnxGraphWriter writer, BertEncoder encoder, string inputIds, string attentionMask, string tokenTypeIds,
        Int8Projections int8 = Int8Projections.None)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(encoder);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return new Graph(writer, encoder, int8).Encoder(inputIds, attentionMask, tokenTypeIds);
    }

    /// <summary>Which projections of each layer <see cref="Write"/> quantizes to int8 (any combination).</summary>
    /// <remarks>
    /// ONNX Runtime's <c>AttentionFusion</c> matches a float MatMul + Add for each of Q, K, V and the attention output
    /// (attention_fusion.cc: the LayerNorm before the block must feed three MatMuls and the residual Add, and the path
    /// back from the next residual Add must be Add(bias) ← MatMul ← Reshape ← Transpose ← MatMul). It runs after
    /// <c>MatMulIntegerToFloatFusion</c> (graph_transformer_utils.cc), so quantizing any of those four leaves the
    /// attention block unfused: scores, softmax and context then run as separate ops (docs/text-saved-model.md).
    /// </remarks>
    [Flags]
    internal enum Int8Projections
    {
        /// <summary>All float32.</summary>
        None = 0,

        /// <summary>The query, key and value projections.</summary>
        QueryKeyValue = 1,

        /// <summary>The attention output projection (<c>attention.output.dense</c>).</summary>
        AttentionOutput = 2,

        /// <summary>The feed-forward up-projection (<c>intermediate.dense</c>, hidden → 4·hidden).</summary>
        Intermediate = 4,

        /// <summary>The feed-forward down-projection (<c>output.dense</c>, 4·hidden → hidden).</summary>
        Output = 8,

        /// <summary>Both feed-forward projections: two thirds of the encoder's multiply-adds, attention still fused.</summary>
        FeedForward = Intermediate | Output,

        /// <summary>Every projection.</summary>
        All = QueryKeyValue | AttentionOutput | FeedForward,
    }

    /// <summary>One export: the writer, the encoder's modules by name, and the scalar constants already written.</summary>
    private sealed class Graph(OnnxGraphWriter w, BertEncoder encoder, Int8Projections int8)
    {
        private readonly Dictionary<string, nn.Module> modules = encoder.named_modules().ToDictionary(m => m.name, m => m.module);
        private readonly Dictionary<float, string> scalars = [];
        private readonly BertConfig config = encoder.Config;

        public string Encoder(string inputIds, string attentionMask, string tokenTypeIds)
        {
            string hidden = Embeddings(inputIds, tokenTypeIds);
            string mask = AdditiveMask(attentionMask);
            var attention = new AttentionExporter(w, config.NumAttentionHeads, config.HiddenSize);
            for (int i = 0; i < config.NumHiddenLayers; i++)
            {
                string prefix = $"encoder.layer.{i}";
                string context = SelfAttention(hidden, mask, $"{prefix}.attention.self", attention);
                hidden = ResidualOutput(context, hidden, $"{prefix}.attention.output", int8.HasFlag(Int8Projections.AttentionOutput));
                string intermediate = Activation(Linear(hidden, $"{prefix}.intermediate.dense", int8.HasFlag(Int8Projections.Intermediate)));
                hidden = ResidualOutput(intermediate, hidden, $"{prefix}.output", int8.HasFlag(Int8Projections.Output));
            }
            return hidden;
        }

        /// <summary>(word + token type) + position, then LayerNorm: BertEmbeddings' order of summation.</summary>
        private string Embeddings(string inputIds, string tokenTypeIds)
        {
            string word = w.Gather(EmbeddingTable("embeddings.word_embeddings"), inputIds);
            string type = w.Gather(EmbeddingTable("embeddings.token_type_embeddings"), tokenTypeIds);
            // Positions are offset..offset+s-1 for every row (offset 0 for BERT, pad id + 1 for RoBERTa), so s rows of the
            // position table from the offset on are the position embeddings: Slice by the run-time sequence length
            // instead of building ids and gathering.
            // [s, hidden] then broadcasts over the batch in the Add. Shape inference cannot size that axis, so ONNX
            // Runtime's SkipLayerNormFusion leaves the residual Add + LayerNorm pairs alone; wanted, since its CPU
            // SkipLayerNormalization was slower than LayerNormalization + Add here (docs/text-saved-model.md).
            string zero = w.AddInt64Initializer("zero_1d", [0], 1);
            string sequenceLength = w.Slice(w.Shape(inputIds), w.AddInt64Initializer("one_1d", [1], 1), w.AddInt64Initializer("two_1d", [2], 1));
            string positions = config.PositionOffset == 0
                ? w.Slice(EmbeddingTable("embeddings.position_embeddings"), zero, sequenceLength, axes: zero)
                : w.Slice(EmbeddingTable("embeddings.position_embeddings"), w.AddInt64Initializer("position_offset", [config.PositionOffset], 1),
                    w.Add(sequenceLength, w.AddInt64Initializer("position_offset_end", [config.PositionOffset], 1)), axes: zero);
            return LayerNorm(w.Add(w.Add(word, type), positions), "embeddings.LayerNorm");
        }

        /// <summary>
        /// (1 − mask)·min(float32), [b,1,1,s]: BertEncoder.AdditiveMask's arithmetic and value (see there why the
        /// dtype's lowest value and not -10000), computed once and added to every layer's scores.
        /// </summary>
        /// <remarks>
        /// Written in the order ONNX Runtime's attention fusion looks for, from the int64 input: Unsqueeze(axes 1),
        /// Unsqueeze(axes 2), Cast, Sub(1, ·), Mul(·, c), then Add to the scores (attention_fusion_helper.h,
        /// MatchInputMaskSubgraph). It takes c as the fused kernel's mask_filter_value, so the value may stay
        /// float32's lowest. Casting after the Unsqueezes costs nothing: the mask is [b,s].
        /// </remarks>
        private string AdditiveMask(string attentionMask)
        {
            string keep = w.Cast(w.Unsqueeze(w.Unsqueeze(attentionMask, [1]), [2]), DataType.Float);
            return w.Mul(w.Sub(Scalar(1f), keep), Scalar(float.MinValue), output: w.UniqueName("additive_mask"));
        }

        /// <summary>softmax(q·kᵀ/√d + mask)·v per head, what BertSelfAttention's scaled_dot_product_attention computes, in
        /// the arrangement ONNX Runtime fuses into one Attention kernel (<see cref="AttentionExporter"/>).</summary>
        private string SelfAttention(string hidden, string mask, string name, AttentionExporter attention)
        {
            bool quantize = int8.HasFlag(Int8Projections.QueryKeyValue);
            return attention.Write(Linear(hidden, $"{name}.query", quantize), Linear(hidden, $"{name}.key", quantize),
                Linear(hidden, $"{name}.value", quantize), mask);
        }

        /// <summary>BertResidualOutput: LayerNorm(dense(x) + residual).</summary>
        private string ResidualOutput(string x, string residual, string name, bool quantize) =>
            LayerNorm(w.Add(Linear(x, $"{name}.dense", quantize), residual), $"{name}.LayerNorm");

        /// <summary>The feed-forward activation named by hidden_act, as BertIntermediate applies it.</summary>
        private string Activation(string x) => config.HiddenAct switch
        {
            "gelu" => w.Gelu(x),
            // Tanh approximation (Hendrycks & Gimpel 2016), PyTorch's approximate="tanh":
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
            "gelu_new" or "gelu_pytorch_tanh" => TanhGelu(x),
            "relu" => w.Relu(x),
            _ => throw new NotSupportedException($"ONNX export: hidden_act '{config.HiddenAct}' is not supported."),
        };

        private string TanhGelu(string x)
        {
            string cube = w.Mul(w.Mul(x, x), x);
            string inner = w.Mul(w.Add(x, w.Mul(cube, Scalar(0.044715f))), Scalar(MathF.Sqrt(2f / MathF.PI)));
            return w.Mul(w.Mul(x, w.Add(w.Tanh(inner), Scalar(1f))), Scalar(0.5f));
        }

        private string Linear(string x, string name, bool quantize) => LinearExporter.Write(w, x, Module<nn.Module>(name), name, quantize);

        private string LayerNorm(string x, string name) => LayerNormExporter.Write(w, x, Module<LayerNorm>(name), name);

        private string EmbeddingTable(string name) => w.AddTensorInitializer($"{name}.weight", Module<Embedding>(name).weight!);

        private T Module<T>(string name) where T : nn.Module
        {
            if (!modules.TryGetValue(name, out var module))
                throw new NotSupportedException($"ONNX export: the BertEncoder has no module '{name}'.");
            return module as T ?? throw new NotSupportedException(
                $"ONNX export: '{name}' is a {module.GetType().Name}; a {typeof(T).Name} is expected there.");
        }

        private string Scalar(float value)
        {
            if (!scalars.TryGetValue(value, out var name))
                scalars[value] = name = w.AddFloatInitializer($"const_{value.ToString("G6", CultureInfo.InvariantCulture)}", [value]);
            return name;
        }
    }
}
