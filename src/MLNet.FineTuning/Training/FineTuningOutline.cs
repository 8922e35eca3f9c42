using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>The rows one call of an estimator reads once: what the outline counts and weights classes by.</summary>
internal interface IFineTuningRows
{
    /// <summary>Training rows.</summary>
    int TrainCount { get; }
    /// <summary>Validation rows (0 without validation).</summary>
    int ValidCount { get; }
    /// <summary>0-based class of each training row (classification only: what <c>BalanceClasses</c> weights by).</summary>
    int[] TrainClasses { get; }
    /// <summary>The K class names, in the head's order (none for a regression).</summary>
    string[] ClassNames { get; }
}

/// <summary>A fresh model and what feeds it: what a modality builds for one training run.</summary>
/// <param name="Model">What the caller keeps after training (the network, and for LoRA its adapters); disposing it frees the weights.</param>
/// <param name="Tunable">The network as the loop sees it.</param>
/// <param name="Train">The training batches (shuffled and augmented per epoch).</param>
/// <param name="Valid">The validation batches, or null without validation.</param>
internal sealed record ModelToTrain<TModel>(TModel Model, IFineTunable Tunable, IBatchSource Train, IBatchSource? Valid)
{
    /// <summary>Frees what the batch sources kept between epochs; the model stays with whoever owns it.</summary>
    public void DisposeSources()
    {
        Train.Dispose();
        Valid?.Dispose();
    }
}

/// <summary>
/// The outline every fine-tuning estimator's <c>Fit</c> follows, written once: read and check the rows (once per call),
/// then one training run with the options, or the automatic recipe (<see cref="FineTuningOptions.TimeBudget"/>: range
/// test, successive halving, final run) when a budget is set; then the modality turns the trained model into the fitted
/// transformer (export, scoring chain). Every run builds a fresh model from the pretrained weights under the process's
/// generator gate, so a seed means the same draws however the run was reached. A modality supplies the hooks: how to
/// read, what to build, what the automatic recipe may try, how to finish.
/// </summary>
/// <typeparam name="TOptions">The estimator's options.</typeparam>
/// <typeparam name="TRows">The rows read once per call.</typeparam>
/// <typeparam name="TModel">A trained model as the modality keeps it.</typeparam>
/// <typeparam name="TTransformer">What <c>Fit</c> returns.</typeparam>
internal abstract class FineTuningOutline<TOptions, TRows, TModel, TTransformer>(HostEnvironment env, TOptions options, IChannel log)
    : IFitOutline<TTransformer>
    where TOptions : FineTuningOptions
    where TRows : IFineTuningRows
    where TModel : IDisposable
{
    protected HostEnvironment Env => env;
    protected TOptions Options => options;
    protected IChannel Log => log;

    /// <summary>Checks the input's columns and reads its rows; with <paramref name="withValidation"/>, split as the
    /// options say (<see cref="ValidationSplit"/>).</summary>
    protected abstract TRows Read(IDataView input, bool withValidation);

    /// <summary>A fresh model for <paramref name="o"/>'s settings (pretrained weights, new head, seeded with
    /// <c>o.Seed</c> before its first random draw) and its batch sources, for training on <paramref name="device"/> (where a
    /// source may keep what every epoch reads). Disposes what it made when it throws.</summary>
    protected abstract ModelToTrain<TModel> Build(TRows rows, TOptions o, Device device);

    /// <summary>What the automatic recipe tries, given the range test's suggested rate (null when its loss did not fall
    /// clearly); the options as given first.</summary>
    protected abstract IReadOnlyList<RecipeCandidate<TOptions>> Candidates(double? suggestedRate);

    /// <summary>What a checkpoint records besides the weights, so that a resume can refuse a different model.</summary>
    protected abstract JsonObject CheckpointMetadata(TOptions o, TRows rows);

    /// <summary>Mixup/CutMix for the modalities that have them.</summary>
    protected virtual BatchMixing? Mixing(TOptions o) => null;

    /// <summary>How the outputs are scored against the labels: single-label classification unless the estimator says otherwise.</summary>
    protected virtual TrainingTask Task(TOptions o, TRows rows) => new ClassificationTask(o.LabelSmoothing);

    /// <summary>The fitted transformer from the trained model (exported, with its scoring chain). Owns
    /// <paramref name="model"/> when it returns; the outline disposes it when this throws.</summary>
    protected abstract TTransformer Finish(IDataView input, TRows rows, TModel model, TOptions o, TrainingResult result);

    /// <summary>Reads, trains (or runs the automatic recipe) and finishes.</summary>
    public TTransformer Fit(IDataView input)
    {
        Check.NotNull(input, nameof(input));
        var watch = Stopwatch.StartNew();
        var rows = Read(input, withValidation: true);
        var reading = watch.Elapsed;
        var (model, o, result, trainedOn) = options.TimeBudget is TimeSpan budget
            ? Search(input, rows, budget - reading, reading.TotalSeconds)
            : Train(rows, options);
        try
        {
            if (result.NotLearned is string warning) log.Warning(MessageSensitivity.None, warning);
            return Finish(input, trainedOn, model, o, result);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The learning-rate range test on a fresh model that is thrown away afterwards.</summary>
    public LearningRateRange FindLearningRate(IDataView input, int steps, double minRate, double maxRate)
    {
        LearningRateRange.CheckArguments(steps, minRate, maxRate);
        Check.NotNull(input, nameof(input));
        return RangeTest(Read(input, withValidation: false), options, steps, minRate, maxRate)!;
    }

    /// <summary>A fresh model and the loop that trains it for <paramref name="o"/>, with the class weights it asks for and
    /// the loss of a constant answer where the loop's loss can be compared with it (<see cref="LearningCheck"/>).</summary>
    private (ModelToTrain<TModel> Run, TrainingLoop Loop, Tensor? ClassWeights, double? ConstantAnswerLoss) Prepare(TRows rows, TOptions o)
    {
        var device = TrainingDevice.Select(env.GpuDeviceId, env.FallbackToCpu);
        var run = Build(rows, o, device);
        var mixing = Mixing(o);
        var task = Task(o, rows);
        var loop = new TrainingLoop(o, device, log, () => CheckpointMetadata(o, rows), mixing, task);
        double? constant = mixing != null ? null
            : task.ConstantAnswerLoss(rows, o.Balance, o.BatchSize);
        return (run, loop, o.WeightsClasses ? ClassWeights.For(rows.TrainClasses, rows.ClassNames.Length) : null, constant);
    }

    private (TModel Model, TOptions Options, TrainingResult Result, TRows TrainedOn) Train(TRows rows, TOptions o)
    {
        using var generator = GlobalGenerator.Exclusive(log);   // from seeding to the last step: one training at a time
        var (run, loop, classWeights, constantAnswerLoss) = Prepare(rows, o);
        try
        {
            using var weights = classWeights;
            var result = loop.Run(run.Tunable, run.Train, run.Valid, weights);
            return (run.Model, o, result with { NotLearned = LearningCheck.Warning(result, constantAnswerLoss, o, rows.ClassNames.Length == 0) }, rows);
        }
        catch
        {
            run.Model.Dispose();
            throw;
        }
        finally
        {
            run.DisposeSources();
        }
    }

    private LearningRateRange? RangeTest(TRows rows, TOptions o, int steps, double minRate, double maxRate, Func<int, int, bool>? keepGoing = null)
    {
        using var generator = GlobalGenerator.Exclusive(log);
        var (run, loop, classWeights, _) = Prepare(rows, o);
        using var model = run.Model;
        using var weights = classWeights;
        try
        {
            return loop.FindLearningRate(run.Tunable, run.Train, steps, minRate, maxRate, weights, keepGoing);
        }
        finally
        {
            run.DisposeSources();
        }
    }

    /// <summary>The automatic recipe over the modality's <see cref="Candidates"/>. When the search held out its own
    /// validation rows, the kept recipe trains again on all of <paramref name="input"/> (read again: the rows read for
    /// the search hold the split), and those rows are what the model is finished with: what a model keeps of its
    /// training rows (a regressor's target mean and spread) must be the rows it trained on, not the search's four fifths.
    /// <paramref name="budget"/> is what is left of <see cref="FineTuningOptions.TimeBudget"/> after the first read, which
    /// took <paramref name="readSeconds"/>: reading again for the final run is reserved with that time.</summary>
    private (TModel Model, TOptions Options, TrainingResult Result, TRows TrainedOn) Search(IDataView input, TRows rows, TimeSpan budget, double readSeconds)
    {
        int trainCount = rows.TrainCount;
        var trainedOn = rows;
        var finalRun = !ValidationSplit.HoldsOutAutomatically(options) ? null : new FinalRunOnAllRows<TOptions, TModel>(x =>
        {
            var (model, _, result, allRows) = Train(Read(input, withValidation: false), x);
            trainedOn = allRows;
            return (model, result);
        }, (double)(trainCount + rows.ValidCount) / trainCount, readSeconds);
        var search = new RecipeSearch<TOptions, TModel>(options, x => (TOptions)x.Copy(), x =>
        {
            var (model, _, result, _) = Train(rows, x);
            return (model, result);
        }, finalRun, log, ValidationMargin.For(options.EarlyStoppingMetric, rows.ValidCount));
        var (kept, chosen, keptResult, _) = search.Run(
            (x, keepGoing) => RangeTest(rows, x, RecipeCandidates.RangeTestSteps(trainCount, x.BatchSize), 1e-7, 1, keepGoing),
            Candidates, (trainCount + options.BatchSize - 1) / options.BatchSize, budget);
        return (kept, chosen, keptResult, trainedOn);
    }
}
