using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// What a task asks of the training loop: how the network's outputs [n, K] are scored against a batch's labels, and
/// whether they can be counted right or wrong. Everything else in the loop (optimizer, schedule, mixing, early stopping,
/// checkpoints) is the same for every task, so a task is these few lines, not another loop.
/// </summary>
internal abstract class TrainingTask
{
    /// <summary>The loss that trains: the batch mean of <paramref name="outputs"/> (fp32) against <paramref name="labels"/>
    /// (on the device), with what the task adds in training only (label smoothing).</summary>
    public abstract Tensor TrainingLoss(Tensor outputs, Tensor labels, Tensor? classWeights);

    /// <summary>The loss that validates: the sum over the batch's rows, without training-only terms.</summary>
    public abstract Tensor EvaluationLoss(Tensor outputs, Tensor labels, Tensor? classWeights);

    /// <summary>Per row, whether the outputs get it right (bool [n] on the device); null for a task without accuracy.</summary>
    public abstract Tensor? RowHits(Tensor outputs, Tensor labels);

    /// <summary>Rows the outputs get right, an int64 scalar on the device; null for a task without accuracy.</summary>
    public Tensor? Hits(Tensor outputs, Tensor labels) => RowHits(outputs, labels)?.sum();

    /// <summary>Whether outputs can be right or wrong (accuracy is reported, and can be the early-stopping metric).</summary>
    public abstract bool HasAccuracy { get; }

    /// <summary>Whether the task sets something from the trained model's outputs on the validation rows
    /// (<see cref="TrainingResult.ValidationOutputs"/>): the multi-label thresholds.</summary>
    public virtual bool NeedsValidationOutputs => false;

    /// <summary>Hits per row, or NaN for a task without accuracy.</summary>
    public double Accuracy(double hits, long rows) => HasAccuracy ? hits / Math.Max(1, rows) : double.NaN;

    /// <summary>The training loss of the best answer that ignores the input (one constant for every row) on the training
    /// rows, or null where the task cannot say: what a run that learned nothing ends at (<see cref="LearningCheck"/>).
    /// <paramref name="balance"/> is how the classes are balanced (null: not at all): by sampling, each epoch draws as
    /// many rows of every class (<see cref="Data.BalancedSampling"/>); by loss weights (<see cref="ClassWeights"/>), the
    /// constant depends on how rows fall into batches of <paramref name="batchSize"/>.</summary>
    public virtual double? ConstantAnswerLoss(IFineTuningRows rows, ClassBalance? balance = null, int batchSize = 0) => null;
}

/// <summary>Single-label classification: cross-entropy over K logits against int64 class indices; a hit is the argmax.</summary>
internal sealed class ClassificationTask(double labelSmoothing) : TrainingTask
{
    public override Tensor TrainingLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.cross_entropy(outputs, labels, classWeights, label_smoothing: labelSmoothing);

    public override Tensor EvaluationLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.cross_entropy(outputs, labels, classWeights, reduction: nn.Reduction.Sum);

    public override Tensor RowHits(Tensor outputs, Tensor labels) => outputs.argmax(1).eq(labels);

    public override bool HasAccuracy => true;

    /// <summary>The entropy of the training rows' class frequencies (nats): the cross-entropy of answering those
    /// frequencies for every row. With label smoothing ε each row's target is (1 − ε)·one-hot + ε/K (PyTorch's
    /// cross_entropy), so the best constant answers the mean target, (1 − ε)·frequencies + ε/K, and costs its entropy.
    /// With class weights the loss of a batch is its weighted mean (divided by the batch's sum of weights, as PyTorch's
    /// cross_entropy does), so the best constant answers each class's expected share of a batch's weight, and its loss is
    /// the entropy of those shares: between the frequencies' entropy and log K. The shares depend on how the rows fall
    /// into batches; they are averaged over a few seeded shuffles (the suite's 1,000 spam-assassin rows, batches of 16:
    /// 1.076 nats against log 3 = 1.099, where a run that collapsed reached 1.071, docs/quality.md "Balanced classes").
    /// Both together: PyTorch weighs the smoothing term of class k by its weight and divides it by the same sum, so
    /// class k's coefficient in the loss is (1 − ε)·share + ε/K·(batch rows · weight / batch weight), averaged over the
    /// batches; coefficients c that need not sum to 1 make −Σ c log(c / Σc) the best constant's loss.</summary>
    public override double? ConstantAnswerLoss(IFineTuningRows rows, ClassBalance? balance = null, int batchSize = 0)
    {
        int[] labels = rows.TrainClasses;
        if (labels.Length == 0) return null;
        if (balance == ClassBalance.LossWeights && batchSize < 1)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "Loss weights' constant needs the batch size.");
        int classes = Math.Max(rows.ClassNames.Length, labels.Max() + 1);
        var counts = new double[classes];
        foreach (int c in labels) counts[c]++;
        int present = counts.Count(n => n > 0);
        var smoothingShares = Enumerable.Repeat(1.0, classes).ToArray();   // unweighted: ε/K on every class
        double[] shares = balance switch
        {
            ClassBalance.Sampling => Array.ConvertAll(counts, n => n > 0 ? 1.0 / present : 0),   // the classes present, evenly
            ClassBalance.LossWeights => WeightShares(labels, ClassWeights.Values(labels, classes), batchSize, out smoothingShares),
            _ => Array.ConvertAll(counts, n => n / labels.Length),
        };
        var coefficients = shares.Select((p, k) => (1 - labelSmoothing) * p + labelSmoothing / classes * smoothingShares[k]).ToArray();
        double sum = coefficients.Sum();
        return -coefficients.Where(c => c > 0).Sum(c => c * Math.Log(c / sum));
    }

    /// <summary>Each class's share of a batch's weight, averaged over the batches of a few seeded shuffles; and, for label
    /// smoothing, each class's weight times the batch's rows over the batch's weight, averaged the same way.</summary>
    private static double[] WeightShares(int[] labels, double[] weights, int batchSize, out double[] smoothingShares)
    {
        const int shuffles = 8;
        var shares = new double[weights.Length];
        var smoothing = new double[weights.Length];
        var order = (int[])labels.Clone();
        var random = new Random(0);
        int batches = 0;
        for (int s = 0; s < shuffles; s++)
        {
            random.Shuffle(order);
            for (int start = 0; start < order.Length; start += batchSize, batches++)
            {
                var batch = order.AsSpan(start, Math.Min(batchSize, order.Length - start));
                double total = 0;
                foreach (int c in batch) total += weights[c];
                foreach (int c in batch) shares[c] += weights[c] / total;
                for (int k = 0; k < weights.Length; k++) smoothing[k] += batch.Length * weights[k] / total;
            }
        }
        smoothingShares = Array.ConvertAll(smoothing, x => x / batches);
        return Array.ConvertAll(shares, x => x / batches);
    }
}

/// <summary>
/// Regression on one output: mean squared error against the target standardised by <see cref="TargetScaling"/>, so the
/// loss starts near 1 whatever the target's unit (1 is predicting the mean) and the learning rates chosen for
/// classification carry over. The export undoes the scaling. No accuracy.
/// </summary>
internal sealed class RegressionTask(TargetScaling scaling) : TrainingTask
{
    // Kept for the task's lifetime: the scalars of a per-step operation must outlive the native call (docs/scalar-lifetime.md).
    private readonly Scalar inverseSpread = (1 / scaling.Spread).ToScalar(), shift = (-scaling.Mean / scaling.Spread).ToScalar();

    private Tensor Standardised(Tensor labels) => labels.mul(inverseSpread).add(shift, KeptScalars.One);

    public override Tensor TrainingLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.mse_loss(outputs.view(-1), Standardised(labels));

    public override Tensor EvaluationLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.mse_loss(outputs.view(-1), Standardised(labels), nn.Reduction.Sum);

    public override Tensor? RowHits(Tensor outputs, Tensor labels) => null;

    public override bool HasAccuracy => false;

    /// <summary>1: the standardised targets' variance, what answering the training mean costs.</summary>
    public override double? ConstantAnswerLoss(IFineTuningRows rows, ClassBalance? balance = null, int batchSize = 0) => 1;
}

/// <summary>
/// Multi-label classification: K independent yes/no outputs, binary cross-entropy on each logit against the row's 0/1
/// flags (float [n, K]), averaged over the labels, so a row weighs the same whatever K is. Label smoothing pulls the
/// targets toward ½ by the given share. No accuracy (the exact-match rate is the evaluator's). With
/// <paramref name="choosesThresholds"/>, the loop keeps the final model's validation outputs, from which each label's
/// threshold is chosen (<see cref="LabelThresholds"/>); otherwise it spends no pass on them.
/// </summary>
internal sealed class LabelSetTask(double labelSmoothing, bool choosesThresholds) : TrainingTask
{
    private readonly Scalar keep = (1 - labelSmoothing).ToScalar(), shift = (labelSmoothing / 2).ToScalar();

    public override Tensor TrainingLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.binary_cross_entropy_with_logits(outputs, labelSmoothing == 0 ? labels : labels.mul(keep).add(shift, KeptScalars.One));

    public override Tensor EvaluationLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.binary_cross_entropy_with_logits(outputs, labels, reduction: nn.Reduction.None).mean([1]).sum();

    public override Tensor? RowHits(Tensor outputs, Tensor labels) => null;

    public override bool HasAccuracy => false;

    public override bool NeedsValidationOutputs => choosesThresholds;
}

/// <summary>
/// Masked-language-model pretraining: the network returns logits [m, vocab] for the m labelled positions of the batch
/// (<see cref="Modeling.BertMaskedLanguageModel"/>), the labels are [n, s] with <c>-100</c> at the positions not scored;
/// the loss is cross-entropy over the labelled positions only, the mean over them. No accuracy (a row is not right or
/// wrong), and no label smoothing or class weights: the targets are tokens.
/// </summary>
internal sealed class MaskedLanguageModelTask : TrainingTask
{
    // The label of a position not scored: cross_entropy's ignore index, Hugging Face's convention, and the model's
    // BertMaskedLanguageModel.Ignored (not referenced: Training does not depend on Modeling).
    private static readonly Scalar Ignored = (-100L).ToScalar();

    // The labels of the scored positions, row-major: the order in which the model returns their logits.
    public override Tensor TrainingLoss(Tensor outputs, Tensor labels, Tensor? classWeights) =>
        nn.functional.cross_entropy(outputs, labels.masked_select(labels.ne(Ignored)));

    // The sum over rows that the loop expects: each row's share is its mean over its labelled tokens; summing the
    // token losses instead would weigh a batch by its masked-token count. Validation is not offered for pretraining,
    // so this only keeps the contract (the batch mean × rows).
    public override Tensor EvaluationLoss(Tensor outputs, Tensor labels, Tensor? classWeights)
    {
        using var rows = KeptScalars.Of(labels.shape[0]);
        return TrainingLoss(outputs, labels, classWeights).mul(rows);
    }

    public override Tensor? RowHits(Tensor outputs, Tensor labels) => null;

    public override bool HasAccuracy => false;
}

/// <summary>The training rows' target mean and spread (population standard deviation): the network learns
/// (target − Mean) / Spread, and the exported graph answers Mean + Spread × output.</summary>
internal sealed record TargetScaling(double Mean, double Spread)
{
    /// <summary>Records the scaling in a checkpoint's metadata (<c>targetMean</c>, <c>targetSpread</c>) and returns it.</summary>
    public System.Text.Json.Nodes.JsonObject AddTo(System.Text.Json.Nodes.JsonObject metadata)
    {
        metadata["targetMean"] = Mean;
        metadata["targetSpread"] = Spread;
        return metadata;
    }

    /// <summary>From the training targets; refuses targets that do not vary (nothing to learn), naming the column.</summary>
    public static TargetScaling Of(IReadOnlyList<float> targets, string column)
    {
        double mean = targets.Average(t => (double)t);
        double spread = Math.Sqrt(targets.Average(t => (t - mean) * (t - mean)));
        if (!(spread > 1e-12 * Math.Max(1, Math.Abs(mean))))
            throw new ArgumentException($"Label column '{column}' holds the same value ({mean:G6}) on every training row; a regression needs targets that vary.");
        return new TargetScaling(mean, spread);
    }
}
