using TorchSharp;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.ML.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// The one fine-tuning loop both estimators use: AdamW with parameter groups (head / backbone rates,
/// no decay on biases and normalisation weights), a per-step schedule, gradient clipping, head-only warm
/// epochs, validation, early stopping with best-weights restore, progress, cancellation and checkpoints; and the
/// fine-tuning toolbox, each off unless asked for: Mixup/CutMix (<see cref="BatchMixing"/>), a moving average of the
/// weights (<see cref="WeightAverage"/>), L2-SP and weight interpolation (<see cref="StartingWeights"/>).
/// Every step runs inside a dispose scope; nothing but the accumulators outlives it.
/// </summary>
internal sealed partial class TrainingLoop
{
    private readonly FineTuningOptions options;
    private readonly Device device;
    private readonly IChannel? log;
    private readonly Func<JsonObject> checkpointMetadata;
    private readonly BatchMixing? mixing;
    private readonly TrainingTask task;

    /// <summary>A loop for <paramref name="options"/> on <paramref name="device"/>; <paramref name="checkpointMetadata"/> is
    /// what the estimator writes into checkpoints; <paramref name="mixing"/> is Mixup/CutMix of the training batches
    /// (images only; null or off for none); <paramref name="task"/> scores the outputs (default: classification with the
    /// options' label smoothing).</summary>
    public TrainingLoop(FineTuningOptions options, Device device, IChannel? log, Func<JsonObject> checkpointMetadata, BatchMixing? mixing = null,
                        TrainingTask? task = null)
    {
        this.options = options;
        this.device = device;
        this.log = log;
        this.checkpointMetadata = checkpointMetadata;
        this.mixing = mixing is { IsOn: true } ? mixing : null;
        this.task = task ?? new ClassificationTask(options.LabelSmoothing);
        if (device.type == DeviceType.CPU) NativeHeap.TuneForTraining(log);
    }

    /// <summary>The <see cref="Seeds.Stable"/> streams of the per-step CUDA seeds start here, far from the batch sources' streams.</summary>
    private const int CudaStepStream = 1 << 24;

    private bool UsesStartingWeights => options.PretrainedWeightDecay > 0 || options.WeightInterpolation < 1 || options.ChooseWeightInterpolation;

    public long StepsPerEpoch(long rows) => (rows + options.BatchSize - 1) / options.BatchSize;

    public TrainingResult Run(IFineTunable model, IBatchSource train, IBatchSource? validation, Tensor? classWeights = null)
    {
        var ct = options.CancellationToken;
        using var kernels = CudaKernelChoices.ForTraining(device, options.AllowTf32, Info);
        model.Module.to(device);
        using var weights = classWeights?.to(device);
        var state = new TrainingState(0, 0, 0, null, -1, 0);
        Dictionary<string, Tensor>? best = null, savedAverage = null;
        using var start = UsesStartingWeights ? StartingWeights.Capture(model) : null;   // before a checkpoint replaces them
        // Weights first, in fp32, so that bf16 masters start from the checkpoint's exact values.
        if (options.ResumeFromCheckpoint is string resume) state = Checkpoint.LoadWeights(resume, model.Module, out best, out savedAverage);
        using var resumedGenerator = options.ResumeFromCheckpoint is string from ? Checkpoint.LoadGeneratorState(from) : null;
        using var average = options.WeightAverageDecay > 0 ? WeightAverage.Start(model.Module, options.WeightAverageDecay) : null;
        if (average != null && savedAverage != null) average.Load(savedAverage);
        DisposeAll(savedAverage);
        using var mixed = MixedPrecision.Wanted(options.Precision, device) ? MixedPrecision.Begin(model) : null;
        var (optimizer, groups) = CreateOptimizer(model, mixed);
        using var _ = optimizer;
        optimizer.zero_grad();   // gradients accumulate from here until each step
        if (options.ResumeFromCheckpoint is string resumed)
        {
            Checkpoint.LoadOptimizer(resumed, optimizer);
            Info($"resumed from '{resumed}' at epoch {state.Epoch + 1}, step {state.GlobalStep}");
        }
        // An optimizer step takes GradientAccumulationSteps batches (the epoch's last step may take fewer).
        int accumulate = options.GradientAccumulationSteps;
        long stepsPerEpoch = (StepsPerEpoch(train.RowCount) + accumulate - 1) / accumulate, totalSteps = stepsPerEpoch * options.Epochs;
        var history = new List<TrainingProgress>();
        bool stoppedEarly = false;
        List<bool>? bestHits = null;   // the best epoch's per-row validation hits (not in checkpoints: a resumed run has them once it improves)
        // What clipping measures: the parameters the optimizer updates (the fp32 masters under bf16).
        var trainable = mixed?.Masters.ToArray() ?? model.BackboneParameters.Concat(model.HeadParameters).Select(p => p.Parameter).ToArray();
        // What L2-SP pulls back: the backbone's tensors the optimizer updates, by the module's names, each at its own rate.
        var backbone = model.BackboneParameters.Select(p => (p.Name, mixed?.MasterOf(p.Parameter) ?? p.Parameter)).ToArray();
        var backboneRates = model.BackboneParameters.Select(p => options.BackboneLearningRateFactor * LayerFactor(model, p.Name)).ToArray();
        void AfterStep()
        {
            start?.PullBack(backbone, backboneRates, groups[0].Group.LearningRate, options.PretrainedWeightDecay);
        }
        using var lossSum = zeros(1, dtype: float64, device: device);
        using var correctSum = zeros(1, dtype: int64, device: device);
        var runStart = Stopwatch.StartNew();
        long stepsThisRun = 0;
        Tensor? generatorAfterStep = null;
        using var __ = Disposer(() => generatorAfterStep?.Dispose());
        using var ___ = Disposer(NativeHeap.Release);   // the blocks kept for the next step go back once training ends

        for (int epoch = state.Epoch; epoch < options.Epochs && !stoppedEarly; epoch++)
        {
            bool frozen = epoch < options.FreezeBackboneEpochs;
            model.SetTrainingMode(frozen);
            if (options.GradualUnfreezing && !frozen) FreezeBelow(model, model.LayerCount - 1 - (epoch - options.FreezeBackboneEpochs));
            manual_seed(options.Seed * 1_000_003L + epoch);   // dropout draws replay exactly from an epoch's start
            // Resumed in the middle of this epoch: the batches skipped below draw nothing, so the generator goes on from
            // where the interrupted run's last step left it (saved in the checkpoint), as an uninterrupted run's would.
            if (epoch == state.Epoch && state.StepInEpoch > 0 && resumedGenerator is not null) set_rng_state(resumedGenerator);
            int skip = epoch == state.Epoch ? state.StepInEpoch : 0, stepInEpoch = 0;
            long windowSamples = 0, epochSamples = 0;
            double epochLoss = 0, epochCorrect = 0;
            // window: since the last step report; epochWatch: the whole epoch, for the epoch-end figure.
            var window = Stopwatch.StartNew();
            var epochWatch = Stopwatch.StartNew();
            int inStep = 0;   // batches whose gradients the next optimizer step will apply
            // Applies the accumulated gradients: one optimizer step, then the step's bookkeeping and report.
            void FinishStep()
            {
                Update(optimizer, mixed, trainable, AfterStep,
                    norm => throw Diverged("gradient norm", norm, state.GlobalStep + 1, epoch, groups[0].Group.LearningRate));
                // The generator as this step leaves it (a 5 KB copy): what a checkpoint written before the next step records.
                generatorAfterStep?.Dispose();
                generatorAfterStep = get_rng_state();
                average?.Update(model.Module, state.GlobalStep + 1);
                inStep = 0;
                state = state with { GlobalStep = state.GlobalStep + 1, StepInEpoch = stepInEpoch };
                stepsThisRun++;
                if (state.GlobalStep % options.LogEveryNSteps != 0) return;
                var (l, c) = Drain(lossSum, correctSum);
                epochLoss += l; epochCorrect += c; epochSamples += windowSamples;
                Report(new TrainingProgress
                {
                    Epoch = epoch + 1, Epochs = options.Epochs, Step = state.GlobalStep, TotalSteps = totalSteps,
                    TrainLoss = l / windowSamples, TrainAccuracy = task.Accuracy(c, windowSamples), LearningRate = groups[0].Group.LearningRate,
                    SamplesPerSecond = windowSamples / window.Elapsed.TotalSeconds, BackboneFrozen = frozen,
                    EstimatedTimeLeft = Eta(runStart.Elapsed, stepsThisRun, totalSteps - state.GlobalStep),
                });
                windowSamples = 0;
                window.Restart();
            }
            // One batch: forward, backward, and the optimizer step once the batches it takes are in.
            void TrainOn(Batch b)
            {
                if (inStep == 0)
                {
                    double factor = LearningRateScheduleMath.Factor(options.Schedule, state.GlobalStep, totalSteps, options.WarmupFraction);
                    foreach (var (group, baseRate) in groups) group.LearningRate = baseRate * factor;
                    // Dropout on CUDA draws from the device's generator, whose state TorchSharp 0.107 can neither read nor
                    // set (torch.cuda has manual_seed only), so a checkpoint cannot hold it: on CUDA each step starts from
                    // a seed of its own instead, and a run resumed at any step draws what the uninterrupted run drew there.
                    // (The CPU generator's state is saved with the checkpoint; reseeding it per step would move every
                    // seeded CPU result, docs/reliability.md.)
                    if (device.type == DeviceType.CUDA) cuda.manual_seed(Seeds.Stable(options.Seed, epoch, CudaStepStream + stepInEpoch));
                }
                using (var scope = NewDisposeScope())
                {
                    // Each batch's mean loss weighted by its share of a full step's rows: k batches of B rows then give
                    // the gradient of one batch of k·B rows.
                    double share = accumulate == 1 ? 1 : (double)b.Count / ((long)accumulate * options.BatchSize);
                    var (loss, logits, labels) = Backward(model, b, mixed, weights, share, (epoch, stepInEpoch));
                    // Read back every batch (gradient clipping reads the norm back every step anyway): a NaN or
                    // infinite loss stops the run here, before the step that would spread it into the weights.
                    double lossValue = loss.item<float>();
                    if (!double.IsFinite(lossValue)) throw Diverged("loss", lossValue, state.GlobalStep + 1, epoch, groups[0].Group.LearningRate);
                    using (no_grad())
                    {
                        using var rows = KeptScalars.Of(b.Count);
                        lossSum.add_(loss.detach().to(float64).mul(rows), KeptScalars.One);
                        if (task.Hits(logits, labels) is { } hits) correctSum.add_(hits, KeptScalars.One);
                    }
                }
                // TorchSharp turns every double argument (AdamW's betas, epsilon and rates, our own constants) into
                // a native at::Scalar that only its finalizer frees. A step allocates little managed memory, so the
                // GC seldom runs, and on the CPU those small blocks pin glibc's heap between the large activation
                // blocks: resident memory grew ~60 MiB per step (ResNet-18, 32 px, batch 8) until a full collection.
                // A gen-0 collection per step (~3 ms) lets their finalizers run; the growth is then ~0
                // (test/MLNet.FineTuning.Benchmarks, leak check; docs/benchmarks.md).
                if (device.type == DeviceType.CPU) GC.Collect(0);
                stepInEpoch++;
                windowSamples += b.Count;
                if (++inStep == accumulate) FinishStep();
            }
            // A batch source may notice the cancellation first and throw from its enumerator; either way the
            // checkpoint records the steps taken so far.
            try
            {
                foreach (var batch in train.Batches(epoch, ct))
                {
                    using var b = batch;
                    if (stepInEpoch < skip) { stepInEpoch++; continue; }
                    ct.ThrowIfCancellationRequested();
                    try { TrainOn(b); }
                    catch (ExternalException e) when (TrainingOutOfMemoryException.IsOutOfMemory(e))
                    {
                        throw OutOfMemory(e, "a training step", b, $" (step {state.GlobalStep + 1}, epoch {epoch + 1} of {options.Epochs})");
                    }
                }
                if (inStep > 0) FinishStep();   // the epoch's last step, over the batches left
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // The last finished step: gradients of batches after it are lost, so a resume takes them again.
                // No step finished in this run yet: the generator as the resumed checkpoint left it is still the one to keep.
                SaveCheckpoint(model, mixed, optimizer, state with { Epoch = epoch }, best, average, "cancelled", generatorAfterStep ?? resumedGenerator);
                throw;
            }
            double epochSeconds = epochWatch.Elapsed.TotalSeconds;   // training only, before validation
            {
                var (l, c) = Drain(lossSum, correctSum);
                epochLoss += l; epochCorrect += c; epochSamples += windowSamples;
            }
            double? vLoss = null, vAcc = null;
            var epochHits = new List<bool>();
            if (validation != null)
                (vLoss, vAcc) = average == null ? Evaluate(model, validation, weights, epochHits) : average.With(model.Module, () => Evaluate(model, validation, weights, epochHits));
            var progress = new TrainingProgress
            {
                Epoch = epoch + 1, Epochs = options.Epochs, Step = state.GlobalStep, TotalSteps = totalSteps,
                TrainLoss = epochLoss / Math.Max(1, epochSamples), TrainAccuracy = task.Accuracy(epochCorrect, epochSamples),
                LearningRate = groups[0].Group.LearningRate, SamplesPerSecond = epochSamples / Math.Max(1e-9, epochSeconds),
                EstimatedTimeLeft = Eta(runStart.Elapsed, stepsThisRun, totalSteps - state.GlobalStep), BackboneFrozen = frozen,
                IsEpochEnd = true, ValidationLoss = vLoss, ValidationAccuracy = vAcc,
            };
            history.Add(progress);
            Report(progress);
            state = state with { Epoch = epoch + 1, StepInEpoch = 0 };
            if (validation != null)
            {
                double metric = options.EarlyStoppingMetric == EarlyStoppingMetric.Accuracy ? vAcc!.Value : -vLoss!.Value;
                if (state.BestMetric is not double bestSoFar || metric > bestSoFar + options.EarlyStoppingMinDelta)
                {
                    DisposeAll(best);
                    best = mixed?.FullPrecisionState() ?? Snapshot(model.Module);
                    if (average != null)
                        foreach (var (name, a) in average.State) { best[name].Dispose(); best[name] = TensorCopies.Detached(a, device: CPU); }
                    state = state with { BestMetric = metric, BestEpoch = epoch, EpochsWithoutImprovement = 0 };
                    bestHits = epochHits.Count > 0 ? epochHits : null;
                }
                else
                {
                    state = state with { EpochsWithoutImprovement = state.EpochsWithoutImprovement + 1 };
                    if (options.EarlyStoppingPatience > 0 && state.EpochsWithoutImprovement >= options.EarlyStoppingPatience)
                    {
                        stoppedEarly = true;
                        Info($"early stopping after epoch {epoch + 1}: no improvement for {state.EpochsWithoutImprovement} epochs; best epoch {state.BestEpoch + 1}");
                    }
                }
            }
            SaveCheckpoint(model, mixed, optimizer, state, best, average, $"epoch {epoch + 1}");
        }
        mixed?.End();   // fp32 from here on: best-weights restore, export and scoring see fp32 weights
        if (best != null)
        {
            Restore(model.Module, best);
            Info($"restored the best weights (epoch {state.BestEpoch + 1})");
            DisposeAll(best);
        }
        else if (average != null)
        {
            average.CopyTo(model.Module);
            Info("kept the moving average of the weights");
        }
        double alpha = start != null && (options.WeightInterpolation < 1 || options.ChooseWeightInterpolation)
            ? Interpolate(model, start, validation, weights) : 1;
        model.Module.eval();
        double? bestMetric = state.BestMetric is double m && options.EarlyStoppingMetric == EarlyStoppingMetric.Loss ? -m : state.BestMetric;
        return new TrainingResult(state.Epoch, stoppedEarly, state.BestEpoch, bestMetric, history)
        {
            WeightInterpolation = alpha,
            ValidationOutputs = task.NeedsValidationOutputs && validation != null ? Outputs(model, validation) : null,
            ValidationHits = bestHits,
        };
    }

    /// <summary>Gradual unfreezing: backbone layer groups below <paramref name="lowestTrained"/> get no gradients this epoch.</summary>
    private static void FreezeBelow(IFineTunable model, int lowestTrained)
    {
        foreach (var (name, p) in model.BackboneParameters)
            if (model.LayerOf(name) < lowestTrained) p.requires_grad = false;
    }

    /// <summary>Weight interpolation toward the starting weights: α as given, or the best of 0.1, 0.2, …, 1 on the
    /// validation data (ties keep the larger α, the fine-tuned side). Returns the α applied.</summary>
    private double Interpolate(IFineTunable model, StartingWeights start, IBatchSource? validation, Tensor? weights)
    {
        Dictionary<string, Tensor> tuned;
        var names = model.InterpolatedState.ToHashSet();
        using (no_grad())
            tuned = model.Module.state_dict().Where(kv => names.Contains(kv.Key)).ToDictionary(kv => kv.Key, kv => TensorCopies.Detached(kv.Value));
        try
        {
            double alpha = options.WeightInterpolation;
            if (options.ChooseWeightInterpolation)
            {
                if (validation == null) throw new InvalidOperationException("ChooseWeightInterpolation needs validation data.");
                double bestMetric = double.NegativeInfinity;
                for (int tenths = 1; tenths <= 10; tenths++)
                {
                    start.Interpolate(model, tuned, tenths / 10.0);
                    var (loss, accuracy) = Evaluate(model, validation, weights);
                    double metric = options.EarlyStoppingMetric == EarlyStoppingMetric.Accuracy ? accuracy : -loss;
                    if (metric >= bestMetric) (bestMetric, alpha) = (metric, tenths / 10.0);
                }
            }
            start.Interpolate(model, tuned, alpha);
            Info($"weight interpolation: α = {alpha:F1} between the starting and the fine-tuned weights{(options.ChooseWeightInterpolation ? " (chosen on validation)" : "")}");
            return alpha;
        }
        finally { DisposeAll(tuned); }
    }

    /// <summary>Forward, loss in fp32, and backward of <paramref name="share"/> × the loss (call inside a dispose scope):
    /// gradients add up until <see cref="Update"/> (under bf16, in the fp32 masters). Returns the loss, the logits and the
    /// labels on the device. <paramref name="mixAt"/> (epoch, batch) marks a training batch that Mixup/CutMix may mix, and
    /// seeds its draws.</summary>
    private (Tensor Loss, Tensor Logits, Tensor Labels) Backward(IFineTunable model, Batch b, MixedPrecision? mixed, Tensor? weights, double share,
                                                                 (int Epoch, int Batch)? mixAt = null)
    {
        var inputs = b.Inputs.Select(t => t.to(device)).ToArray();
        var labels = b.Labels.to(device);
        Tensor? otherLabels = null;
        double lambda = 1;
        if (mixing != null && mixAt is var (epoch, index))
            (inputs[0], otherLabels, lambda) = mixing.Mix(inputs[0], labels, options.Seed, epoch, index);
        var logits = model.Forward(inputs).to(float32);   // the loss in fp32 whatever the compute type
        var loss = task.TrainingLoss(logits, labels, weights);
        if (otherLabels is not null)
        {
            using Scalar mine = KeptScalars.Of(lambda), theirs = KeptScalars.Of(1 - lambda);
            loss = loss.mul(mine).add(task.TrainingLoss(logits, otherLabels, weights).mul(theirs), KeptScalars.One);
        }
        using var part = KeptScalars.Of(share);
        (share == 1 ? loss : loss.mul(part)).backward();
        mixed?.AddGradientsToMasters();   // and clears the module's bf16 gradients
        return (loss, logits, labels);
    }

    /// <summary>The error for a loss or gradient norm that is not finite, with what to change.</summary>
    private TrainingDivergedException Diverged(string quantity, double value, long step, int epoch, double learningRate) =>
        new(quantity, value, step, epoch + 1, options.Epochs, learningRate,
            $"Lower LearningRate (now {options.LearningRate:G3}){(options.GradientClipNorm > 0 ? "" : ", set GradientClipNorm (e.g. 1)")}" +
            $"{(options.WarmupFraction < 0.05 ? ", or raise WarmupFraction" : "")}; with bf16 Precision, Float32 is the safer choice.");

    /// <summary>The error for libtorch's allocation failure in <paramref name="phase"/> on batch <paramref name="b"/>: the
    /// device, the batch and a smaller batch size (<see cref="TrainingOutOfMemoryException"/>).</summary>
    private TrainingOutOfMemoryException OutOfMemory(Exception e, string phase, Batch b, string where = "") =>
        new(device.ToString(), phase, b.Count, b.Inputs.Select(t => t.shape).ToArray(), options.BatchSize, options.GradientAccumulationSteps, where, e);

    /// <summary>Clips the accumulated gradients, takes one optimizer step (then <paramref name="afterStep"/>, on the
    /// tensors the optimizer owns) and clears them. A gradient norm that is not finite goes to <paramref name="notFinite"/>
    /// (which throws) before the step, so the weights stay as they were.</summary>
    private void Update(optim.Optimizer optimizer, MixedPrecision? mixed, Parameter[] trainable, Action? afterStep = null, Action<double>? notFinite = null)
    {
        if (options.GradientClipNorm > 0)
        {
            // On CUDA over FlatAdamW's flat buffers (a few kernels, not two per tensor); on the CPU TorchSharp's own, whose
            // order of summation every seeded CPU result was measured with.
            double norm = device.type == DeviceType.CUDA && optimizer is FlatAdamW flat
                ? flat.ClipGradientNorm(options.GradientClipNorm)
                : nn.utils.clip_grad_norm_(trainable, options.GradientClipNorm);
            if (!double.IsFinite(norm) && notFinite != null)
            {
                optimizer.zero_grad();
                notFinite(norm);
            }
        }
        optimizer.step();
        afterStep?.Invoke();
        mixed?.MastersToModel();
        optimizer.zero_grad();
    }

    private void SaveCheckpoint(IFineTunable model, MixedPrecision? mixed, optim.Optimizer optimizer, TrainingState state, Dictionary<string, Tensor>? best,
                                WeightAverage? average, string why, Tensor? generator = null)
    {
        if (options.CheckpointDirectory is not string dir) return;
        // Under bf16 the checkpoint holds the fp32 masters, so resuming loses nothing to rounding.
        var weights = mixed?.FullPrecisionState();
        try { Checkpoint.Save(dir, model.Module, optimizer, state, best, checkpointMetadata(), weights, average?.State, generator); }
        finally { DisposeAll(weights); }
        Info($"checkpoint ({why}) saved to '{dir}'");
    }

    private static IDisposable Disposer(Action dispose) => new ActionDisposable(dispose);

    private sealed class ActionDisposable(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    private static (double Loss, double Correct) Drain(Tensor lossSum, Tensor correctSum)
    {
        double l = lossSum.item<double>(), c = correctSum.item<long>();
        lossSum.zero_();
        correctSum.zero_();
        return (l, c);
    }

    private static TimeSpan Eta(TimeSpan elapsed, long done, long left) =>
        done == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(elapsed.TotalSeconds / done * Math.Max(0, left));

    private static Dictionary<string, Tensor> Snapshot(nn.Module module) =>
        module.state_dict().ToDictionary(kv => kv.Key, kv => TensorCopies.Detached(kv.Value, device: CPU));

    private static void Restore(nn.Module module, Dictionary<string, Tensor> snapshot)
    {
        using var _ = no_grad();
        foreach (var (name, t) in module.state_dict()) t.copy_(snapshot[name]);
    }

    private static void DisposeAll(Dictionary<string, Tensor>? tensors)
    {
        if (tensors == null) return;
        foreach (var t in tensors.Values) t.Dispose();
    }

    private void Report(TrainingProgress p)
    {
        Info(p.ToString());
        options.Progress?.Report(p);
    }

    private void Info(string message) => log?.Info(MessageSensitivity.None, message);
}
