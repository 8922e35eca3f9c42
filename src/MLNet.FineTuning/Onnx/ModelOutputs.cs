using System.Globalization;
using System.Text.Json;
using MLNet.FineTuning.Runtime.Onnx;
using DataType = global::Onnx.TensorProto.Types.DataType;

namespace MLNet.FineTuning.Onnx;

/// <summary>What an exported graph ends with after the head's outputs [N, K]: the task's outputs and metadata
/// (<see cref="ExportedModelContract"/>). One per task, shared by the image and the text exporters.</summary>
internal abstract record ModelOutputs(string Task)
{
    /// <summary>The head's output count K this task needs.</summary>
    public abstract int HeadOutputs { get; }

    /// <summary>Appends the outputs, named by the contract, and the metadata.</summary>
    public abstract void Write(OnnxGraphWriter writer, string headOutputs);

    /// <summary>Checks what a caller passed (names it) before anything is written.</summary>
    public abstract void Check();
}

/// <summary>Single-label classification: probabilities, predicted index and label (<see cref="ClassifierHeadExporter.WriteOutputs"/>).</summary>
internal sealed record ClassificationOutputs(IReadOnlyList<string> ClassNames, string Task) : ModelOutputs(Task)
{
    public override int HeadOutputs => ClassNames.Count;

    public override void Write(OnnxGraphWriter writer, string headOutputs) => ClassifierHeadExporter.WriteOutputs(writer, headOutputs, ClassNames, Task);

    public override void Check()
    {
        ArgumentNullException.ThrowIfNull(ClassNames);
        if (ClassNames.Any(n => n is null))
            throw new ArgumentException("ONNX export: class names must not be null.", nameof(ClassNames));
    }
}

/// <summary>Regression: <c>score</c> float [batch, 1] = Mean + Spread × the head's output, the training targets'
/// scaling undone inside the graph, so a service reads the target in its own unit.</summary>
internal sealed record RegressionOutputs(double Mean, double Spread, string Task) : ModelOutputs(Task)
{
    public override int HeadOutputs => 1;

    public override void Write(OnnxGraphWriter writer, string headOutputs)
    {
        string scaled = writer.Mul(headOutputs, writer.AddFloatInitializer("target_spread", [(float)Spread]));
        writer.Add(scaled, writer.AddFloatInitializer("target_mean", [(float)Mean]), output: ExportedModelContract.ScoreOutput);
        writer.AddOutput(ExportedModelContract.ScoreOutput, DataType.Float, ExportedModelContract.BatchDim, 1);
        writer.SetMetadata(ExportedModelContract.TaskKey, Task);
        writer.SetMetadata(ExportedModelContract.OpsetKey, writer.Opset.ToString(CultureInfo.InvariantCulture));
    }

    public override void Check()
    {
        if (!double.IsFinite(Mean) || !(Spread > 0) || !double.IsFinite(Spread))
            throw new ArgumentException($"ONNX export: the target scaling (mean {Mean}, spread {Spread}) must be finite with a positive spread.");
    }
}

/// <summary>Multi-label classification: <c>probabilities</c> float [batch, K], the sigmoid of each label's logit, and
/// <c>predicted_labels</c> bool [batch, K], each probability against its label's threshold; the label names and thresholds
/// as metadata.</summary>
internal sealed record LabelSetOutputs(IReadOnlyList<string> LabelNames, IReadOnlyList<float> Thresholds, string Task) : ModelOutputs(Task)
{
    public override int HeadOutputs => LabelNames.Count;

    public override void Write(OnnxGraphWriter writer, string headOutputs)
    {
        int k = LabelNames.Count;
        writer.Sigmoid(headOutputs, output: ExportedModelContract.ProbabilitiesOutput);
        writer.GreaterOrEqual(ExportedModelContract.ProbabilitiesOutput, writer.AddFloatInitializer("thresholds", [.. Thresholds], k),
            output: ExportedModelContract.PredictedLabelsOutput);
        writer.AddOutput(ExportedModelContract.ProbabilitiesOutput, DataType.Float, ExportedModelContract.BatchDim, k);
        writer.AddOutput(ExportedModelContract.PredictedLabelsOutput, DataType.Bool, ExportedModelContract.BatchDim, k);
        writer.SetMetadata(ExportedModelContract.TaskKey, Task);
        writer.SetMetadata(ExportedModelContract.ClassNamesKey, JsonSerializer.Serialize(LabelNames));
        writer.SetMetadata(ExportedModelContract.ThresholdsKey, JsonSerializer.Serialize(Thresholds));
        writer.SetMetadata(ExportedModelContract.OpsetKey, writer.Opset.ToString(CultureInfo.InvariantCulture));
    }

    public override void Check()
    {
        ArgumentNullException.ThrowIfNull(LabelNames);
        if (LabelNames.Any(n => n is null))
            throw new ArgumentException("ONNX export: label names must not be null.", nameof(LabelNames));
        if (Thresholds.Count != LabelNames.Count || Thresholds.Any(t => !float.IsFinite(t)))
            throw new ArgumentException($"ONNX export: {LabelNames.Count} finite thresholds expected, one per label; got {Thresholds.Count}.", nameof(Thresholds));
    }
}
