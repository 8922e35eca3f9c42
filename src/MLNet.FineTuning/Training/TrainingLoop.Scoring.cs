using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

// The loop's passes without gradients: validation loss and accuracy, and the raw outputs for a task that fits on them.
internal sealed partial class TrainingLoop
{
    /// <summary>Mean loss and accuracy over a source, in evaluation mode, without gradients; with
    /// <paramref name="rowHits"/>, also whether each row was right, in the source's order (left empty for a task without
    /// accuracy).</summary>
    public (double Loss, double Accuracy) Evaluate(IFineTunable model, IBatchSource source, Tensor? weights = null, List<bool>? rowHits = null)
    {
        model.Module.eval();
        double loss = 0, correct = 0;
        long n = 0;
        using var _ = no_grad();
        foreach (var batch in source.Batches(0, options.CancellationToken))
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            var logits = ForwardWithoutGradients(model, b, "validation");
            var labels = b.Labels.to(device);
            loss += task.EvaluationLoss(logits, labels, weights).item<float>();
            if (task.RowHits(logits, labels) is { } hits)
            {
                correct += hits.sum().item<long>();
                rowHits?.AddRange(hits.cpu().data<bool>());
            }
            n += b.Count;
        }
        return (loss / Math.Max(1, n), task.Accuracy(correct, n));
    }

    /// <summary>The model's fp32 outputs and the labels over a source, in evaluation mode, without gradients, copied to the host.</summary>
    public RowOutputs Outputs(IFineTunable model, IBatchSource source)
    {
        model.Module.eval();
        var outputs = new List<float>();
        var labels = new List<float>();
        int width = 0, labelWidth = 1;
        using var _ = no_grad();
        foreach (var batch in source.Batches(0, options.CancellationToken))
        {
            using var b = batch;
            using var scope = NewDisposeScope();
            var logits = ForwardWithoutGradients(model, b, "scoring the validation rows").cpu();
            width = (int)logits.shape[1];
            labelWidth = b.Labels.dim() > 1 ? (int)b.Labels.shape[1] : 1;
            outputs.AddRange(logits.data<float>());
            labels.AddRange(b.Labels.to(float32).data<float>());
        }
        return new RowOutputs(outputs.ToArray(), width, labels.ToArray(), labelWidth);
    }

    /// <summary>The model's fp32 outputs on a batch (the caller holds no_grad and a dispose scope).</summary>
    private Tensor ForwardWithoutGradients(IFineTunable model, Batch b, string phase)
    {
        try { return model.Forward(b.Inputs.Select(t => t.to(device)).ToArray()).to(float32); }
        catch (ExternalException e) when (TrainingOutOfMemoryException.IsOutOfMemory(e)) { throw OutOfMemory(e, phase, b); }
    }
}
