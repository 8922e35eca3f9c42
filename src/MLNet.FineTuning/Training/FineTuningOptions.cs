using Microsoft.ML;

namespace MLNet.FineTuning.Training;

/// <summary>
/// Options every fine-tuning estimator shares: columns, optimisation, schedule, freezing, validation,
/// early stopping, progress, cancellation and checkpoints. The estimators' nested <c>Options</c> classes
/// derive from it and add what is specific to their data (image size, text length, LoRA rank).
/// </summary>
public abstract class FineTuningOptions
{
    /// <summary>Label column, a key type (use <c>MapValueToKey</c>). Default "Label".</summary>
    public string LabelColumnName { get; set; } = ColumnNames.Label;
    /// <summary>Output column of class probabilities (float vector, one per class). Default "Score".</summary>
    public string ScoreColumnName { get; set; } = ColumnNames.Score;
    /// <summary>Output column of the predicted class (key type of the label). Default "PredictedLabel".</summary>
    public string PredictedLabelColumnName { get; set; } = ColumnNames.PredictedLabel;

    /// <summary>Passes over the training data, ≥ 1. Default 5 (3 for the text estimators).</summary>
    public int Epochs { get; set; } = 5;
    /// <summary>Samples per optimizer step, ≥ 1 (≥ 2 when BatchNorm statistics train). Default 32.</summary>
    public int BatchSize { get; set; } = 32;
    /// <summary>Batches whose gradients add up before each optimizer step, ≥ 1: k batches of <see cref="BatchSize"/> rows
    /// train like one batch of k × BatchSize rows (a large effective batch on a small device; BatchNorm still sees each
    /// batch on its own, as in PyTorch). The schedule and <see cref="LogEveryNSteps"/> count optimizer steps. Default 1.</summary>
    public int GradientAccumulationSteps { get; set; } = 1;
    /// <summary>Peak learning rate of the new head, &gt; 0. Default 1e-3 (AdamW).</summary>
    public double LearningRate { get; set; } = 1e-3;
    /// <summary>Backbone (or adapter) learning rate as a fraction of <see cref="LearningRate"/> (discriminative rates), in
    /// (0, 1]. Default 1: on the quality suite (docs/quality.md) a backbone at a tenth or 0.3 of the head's rate lost
    /// 1–3 points to the same rate everywhere, most on data far from ImageNet (glyphs, digits, clothing).</summary>
    public double BackboneLearningRateFactor { get; set; } = 1.0;
    /// <summary>AdamW decoupled weight decay, ≥ 0, applied to weight matrices and kernels only (not to biases
    /// and normalisation weights). Default 0.01 (PyTorch's AdamW default).</summary>
    public double WeightDecay { get; set; } = 0.01;
    /// <summary>Learning-rate schedule. Default <see cref="LearningRateSchedule.WarmupCosine"/>.</summary>
    public LearningRateSchedule Schedule { get; set; } = LearningRateSchedule.WarmupCosine;
    /// <summary>Fraction of all steps spent warming up, in [0, 1). Default 0.1.</summary>
    public double WarmupFraction { get; set; } = 0.1;
    /// <summary>Clip the global gradient L2 norm to this value; 0 turns clipping off. Default 1.0.</summary>
    public double GradientClipNorm { get; set; } = 1.0;
    /// <summary>Label smoothing of the cross-entropy loss, in [0, 1). Default 0.</summary>
    public double LabelSmoothing { get; set; }
    /// <summary>Make rare classes count as much as common ones, as <see cref="BalanceClassesBy"/> says (higher macro
    /// accuracy on imbalanced data, usually at some cost in micro accuracy). Default false.</summary>
    public bool BalanceClasses { get; set; }
    /// <summary>How <see cref="BalanceClasses"/> balances: by sampling (each epoch draws as many rows of every class) or
    /// by weighting the loss. Default <see cref="ClassBalance.Sampling"/>: on the quality suite the same macro accuracy as
    /// loss weights where balancing helps, and no run that learned nothing, where loss weights made one spam-assassin run
    /// in three answer the largest class (docs/quality.md, "Balanced sampling").</summary>
    public ClassBalance BalanceClassesBy { get; set; } = ClassBalance.Sampling;
    /// <summary>How the classes are balanced, or null when they are not.</summary>
    internal ClassBalance? Balance => BalanceClasses ? BalanceClassesBy : null;
    /// <summary>Whether training epochs draw as many rows of every class.</summary>
    internal bool SamplesClassesEvenly => Balance == ClassBalance.Sampling;
    /// <summary>Whether the loss weighs the classes (<see cref="ClassWeights"/>).</summary>
    internal bool WeightsClasses => Balance == ClassBalance.LossWeights;
    /// <summary>Exponential moving average of the weights (timm's model EMA), in [0, 1); 0 turns it off. After every step
    /// the average moves toward the weights by 1 − d, d = min(decay, (1 + step) / (10 + step)); validation, the best-epoch
    /// choice, checkpoints' average and the exported model then use the average. Typical: 0.999. Default 0 (off).</summary>
    public double WeightAverageDecay { get; set; }
    /// <summary>L2-SP (Li et al. 2018): decay the backbone's weights toward their pretrained values by this strength
    /// (w ← w − rate · strength · (w − w₀) each step, as AdamW decays toward zero), in place of
    /// <see cref="WeightDecay"/> on the backbone; ≥ 0, 0 turns it off. Keeps the fine-tuned network near what it knew.
    /// Default 0 (off).</summary>
    public double PretrainedWeightDecay { get; set; }
    /// <summary>Weight-space interpolation (WiSE-FT, Wortsman et al. 2022): the kept backbone is w₀ + α (w − w₀), between
    /// the pretrained (α = 0) and the fine-tuned weights (α = 1); for LoRA the adapters' change is scaled by α. In [0, 1].
    /// Default 1 (off).</summary>
    public double WeightInterpolation { get; set; } = 1;
    /// <summary>Choose <see cref="WeightInterpolation"/> on the validation data instead: α from 0.1 to 1 by 0.1, the best
    /// by <see cref="EarlyStoppingMetric"/> (ties keep the larger α). Needs validation data. Default false.</summary>
    public bool ChooseWeightInterpolation { get; set; }
    /// <summary>Layer-wise learning-rate decay (Howard and Ruder 2018; ELECTRA, BEiT): each backbone layer group below
    /// the top trains at this factor of the one above it (ResNet: stem and four stages; BERT: embeddings, each layer,
    /// pooler), so the general features near the input move least. In (0, 1]; 1 turns it off. Typical: 0.7–0.9.
    /// Default 1: on the quality suite (docs/quality.md) 0.7 gained 2.6 points on photos and clip art of objects, the
    /// image set nearest ImageNet, and nothing on images far from it (glyphs, digits, drawings), whose noisy copies it
    /// scored much worse; try it on photos. On the text sets (LoRA) it was 0.5 points below the defaults.</summary>
    public double LayerwiseLearningRateDecay { get; set; } = 1;
    /// <summary>Gradual unfreezing (ULMFiT, Howard and Ruder 2018): after the head-only epochs
    /// (<see cref="FreezeBackboneEpochs"/>), the first epoch trains only the top layer group of the backbone, and each
    /// further epoch one more group below it. Default false (the whole backbone trains).</summary>
    public bool GradualUnfreezing { get; set; }
    /// <summary>Train only the head for this many first epochs, then unfreeze the backbone, in [0, Epochs]. Default 0.</summary>
    public int FreezeBackboneEpochs { get; set; }

    /// <summary>Validation data with the same schema as the training data. Takes precedence over <see cref="ValidationFraction"/>.</summary>
    public IDataView? ValidationSet { get; set; }
    /// <summary>Hold out this fraction of the training rows for validation (seeded), in [0, 1). Default 0 (none).</summary>
    public double ValidationFraction { get; set; }
    /// <summary>Stop after this many epochs without improvement of <see cref="EarlyStoppingMetric"/> on the
    /// validation data, and restore the best weights; 0 turns early stopping off (the best weights are still
    /// restored when there is validation data). Default 0.</summary>
    public int EarlyStoppingPatience { get; set; }
    /// <summary>Smallest change that counts as an improvement, ≥ 0. Default 0.</summary>
    public double EarlyStoppingMinDelta { get; set; }
    /// <summary>Figure watched by early stopping. Default <see cref="Training.EarlyStoppingMetric.Accuracy"/>.</summary>
    public EarlyStoppingMetric EarlyStoppingMetric { get; set; } = EarlyStoppingMetric.Accuracy;

    /// <summary>Seed of shuffling, augmentation, dropout and head initialisation. Default 1. Two CPU runs with the
    /// same seed are bit-for-bit identical only when MKL's conditional numerical reproducibility is on (environment
    /// variable <c>MKL_CBWR=AUTO</c> before the process starts; without it matrix products can differ in the last
    /// bit from run to run), and when nothing else in the process draws from TorchSharp's global random generator
    /// meanwhile (another Fit on another thread does: initialisation and dropout use that generator).</summary>
    public int Seed { get; set; } = 1;
    /// <summary>Report progress every this many optimizer steps (and at every epoch end), ≥ 1. Default 50.</summary>
    public int LogEveryNSteps { get; set; } = 50;
    /// <summary>Receives progress reports (also written to <c>MLContext.Log</c>).</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }
    /// <summary>Cancels training. With <see cref="CheckpointDirectory"/> set, a checkpoint is saved before
    /// <see cref="OperationCanceledException"/> is thrown, so training can resume from it.</summary>
    public CancellationToken CancellationToken { get; set; }
    /// <summary>Number format while training. Default <see cref="TrainingPrecision.Auto"/>: bf16 mixed precision on a
    /// CUDA device, fp32 on the CPU.</summary>
    public TrainingPrecision Precision { get; set; } = TrainingPrecision.Auto;
    /// <summary>On a CUDA device, let fp32 matrix products and convolutions run on TF32 tensor cores (fp32's range, 10
    /// mantissa bits; what PyTorch did by default until 1.12 and what the PyTorch peer of the GPU figures allows). Matters
    /// with <see cref="TrainingPrecision.Float32"/>; under bf16 the network computes in bf16 anyway. False keeps full fp32
    /// arithmetic. Training on CUDA also turns on cuDNN's autotuner for its duration. No effect on the CPU. Default true.</summary>
    public bool AllowTf32 { get; set; } = true;
    /// <summary>
    /// Turns on the automatic recipe: within about this much wall time, <c>Fit</c> runs a learning-rate range test
    /// (<c>FindLearningRate</c>) and a successive-halving search over the settings the quality suite showed matter
    /// (docs/quality.md), ranks them on validation data (<see cref="ValidationSet"/>, or <see cref="ValidationFraction"/>,
    /// or else a seeded fifth of the rows), and trains the winner for <see cref="Epochs"/>: on all the rows when the fifth
    /// was held out automatically. The budget counts from the start of <c>Fit</c> (reading the data included, and reading
    /// it again for that final run), not the export. The final run's time is reserved first, so when the budget affords
    /// no trial beside it, the options as given train. The trials are logged and returned (<c>RecipeSearch</c> on the fitted
    /// transformer). Checkpoints are not written during the search. Default null: train once with the options as given.
    /// </summary>
    public TimeSpan? TimeBudget { get; set; }

    /// <summary>Folder for checkpoints (written at each epoch end and on cancellation); null for none.</summary>
    public string? CheckpointDirectory { get; set; }
    /// <summary>Resume from the checkpoint in this folder (weights, optimizer, schedule position, epoch).</summary>
    public string? ResumeFromCheckpoint { get; set; }

    /// <summary>A shallow copy: what an estimator keeps of the options it was given.</summary>
    internal FineTuningOptions Copy() => (FineTuningOptions)MemberwiseClone();

    internal virtual void Validate()
    {
        Check.Range(Epochs >= 1, nameof(Epochs), "≥ 1", Epochs);
        Check.Range(BatchSize >= 1, nameof(BatchSize), "≥ 1", BatchSize);
        Check.Range(GradientAccumulationSteps >= 1, nameof(GradientAccumulationSteps), "≥ 1", GradientAccumulationSteps);
        Check.Range(LearningRate > 0, nameof(LearningRate), "> 0", LearningRate);
        Check.Range(BackboneLearningRateFactor > 0 && BackboneLearningRateFactor <= 1, nameof(BackboneLearningRateFactor), "in (0, 1]", BackboneLearningRateFactor);
        Check.Range(WeightDecay >= 0, nameof(WeightDecay), "≥ 0", WeightDecay);
        Check.Range(WarmupFraction >= 0 && WarmupFraction < 1, nameof(WarmupFraction), "in [0, 1)", WarmupFraction);
        Check.Range(GradientClipNorm >= 0, nameof(GradientClipNorm), "≥ 0", GradientClipNorm);
        Check.Range(LabelSmoothing >= 0 && LabelSmoothing < 1, nameof(LabelSmoothing), "in [0, 1)", LabelSmoothing);
        Check.Range(FreezeBackboneEpochs >= 0 && FreezeBackboneEpochs <= Epochs, nameof(FreezeBackboneEpochs), $"in [0, Epochs={Epochs}]", FreezeBackboneEpochs);
        Check.Range(ValidationFraction >= 0 && ValidationFraction < 1, nameof(ValidationFraction), "in [0, 1)", ValidationFraction);
        Check.Range(EarlyStoppingPatience >= 0, nameof(EarlyStoppingPatience), "≥ 0", EarlyStoppingPatience);
        Check.Range(EarlyStoppingMinDelta >= 0, nameof(EarlyStoppingMinDelta), "≥ 0", EarlyStoppingMinDelta);
        Check.Range(LogEveryNSteps >= 1, nameof(LogEveryNSteps), "≥ 1", LogEveryNSteps);
        Check.Range(LayerwiseLearningRateDecay > 0 && LayerwiseLearningRateDecay <= 1, nameof(LayerwiseLearningRateDecay), "in (0, 1]", LayerwiseLearningRateDecay);
        Check.Range(WeightAverageDecay >= 0 && WeightAverageDecay < 1, nameof(WeightAverageDecay), "in [0, 1)", WeightAverageDecay);
        Check.Range(PretrainedWeightDecay >= 0, nameof(PretrainedWeightDecay), "≥ 0", PretrainedWeightDecay);
        Check.Range(WeightInterpolation >= 0 && WeightInterpolation <= 1, nameof(WeightInterpolation), "in [0, 1]", WeightInterpolation);
        if (ChooseWeightInterpolation && ValidationSet == null && ValidationFraction <= 0)
            throw new ArgumentException("ChooseWeightInterpolation needs validation data: set ValidationSet or ValidationFraction.", nameof(ChooseWeightInterpolation));
        if (TimeBudget is TimeSpan budget) Check.Range(budget > TimeSpan.Zero, nameof(TimeBudget), "> 0", budget);
        if (TimeBudget != null && ResumeFromCheckpoint != null)
            throw new ArgumentException("TimeBudget and ResumeFromCheckpoint cannot be combined: the automatic recipe trains several models from the pretrained weights.", nameof(TimeBudget));
        if (string.IsNullOrWhiteSpace(LabelColumnName)) throw new ArgumentException("LabelColumnName must name a column.");
    }

    /// <summary>What a multi-label classifier refuses: class balancing (its labels are not exclusive classes) and accuracy
    /// as the early-stopping metric (the exact-match rate moves in steps too coarse to stop on).</summary>
    internal void ValidateLabelSet(double threshold)
    {
        if (BalanceClasses) throw new ArgumentException("BalanceClasses is for single-label classification; a multi-label classifier takes false.", nameof(BalanceClasses));
        if (EarlyStoppingMetric != EarlyStoppingMetric.Loss)
            throw new ArgumentException("A multi-label classifier stops on its validation loss: EarlyStoppingMetric must be Loss (its default).", nameof(EarlyStoppingMetric));
        if (!(threshold > 0 && threshold < 1)) throw new ArgumentOutOfRangeException("Threshold", threshold, "Threshold must lie strictly between 0 and 1.");
    }

    /// <summary>What a regression estimator refuses: the options that only mean something for classes.</summary>
    internal void ValidateRegression()
    {
        if (LabelSmoothing != 0) throw new ArgumentException("LabelSmoothing is for classification; a regression takes 0.", nameof(LabelSmoothing));
        if (BalanceClasses) throw new ArgumentException("BalanceClasses is for classification; a regression has no classes.", nameof(BalanceClasses));
        if (EarlyStoppingMetric != EarlyStoppingMetric.Loss)
            throw new ArgumentException("A regression has no accuracy: EarlyStoppingMetric must be Loss (the regressors' default).", nameof(EarlyStoppingMetric));
    }
}
