using System.Diagnostics;
using Microsoft.ML.Runtime;

namespace MLNet.FineTuning.Training;

/// <summary>One training run of the automatic recipe: which settings, how many epochs, what validation said.</summary>
/// <param name="Recipe">The settings that differ from the options given, e.g. <c>lr=0.002, bb=1, aug=None</c>.</param>
/// <param name="Rung">0 for the first round of successive halving, 1 for the next, …; the final run has the highest.</param>
/// <param name="Epochs">Epochs the run trained.</param>
/// <param name="Score">Its best validation figure (accuracy, or −loss when <c>EarlyStoppingMetric</c> is Loss): higher is
/// better. NaN for a final run on all the rows, which has no validation.</param>
/// <param name="Seconds">Wall time of the run, model building included.</param>
public sealed record RecipeTrial(string Recipe, int Rung, int Epochs, double Score, double Seconds);

/// <summary>What the automatic recipe (<see cref="FineTuningOptions.TimeBudget"/>) did: the learning-rate range test,
/// every trial in order, and the recipe it kept.</summary>
public sealed class RecipeSearchResult
{
    internal RecipeSearchResult(LearningRateRange? range, IReadOnlyList<RecipeTrial> trials, RecipeTrial chosen, FineTuningOptions keptOptions,
                                TimeSpan elapsed, bool cutShort)
    {
        LearningRateRange = range;
        Trials = trials;
        Chosen = chosen;
        KeptOptions = keptOptions;
        Elapsed = elapsed;
        CutShortByBudget = cutShort;
    }

    /// <summary>The range test run first; its suggestion is one of the candidate rates when its loss fell clearly
    /// (<see cref="Training.LearningRateRange.LossFellClearly"/>), else only the options' rate is. Null when the budget stopped it
    /// (its pace said that it, a trial and the final run would not fit): the options as given then trained.</summary>
    public LearningRateRange? LearningRateRange { get; }
    /// <summary>Every trial, in the order it ran.</summary>
    public IReadOnlyList<RecipeTrial> Trials { get; }
    /// <summary>The trial whose model was kept.</summary>
    public RecipeTrial Chosen { get; }
    /// <summary>The options the kept model trained with, of the estimator's own options type, with no time budget: given to
    /// the same estimator with the same data and seed, they train the kept recipe again without a search (to the same
    /// weights on the same CPU), as Model Builder's generated code trains its best pipeline. A copy of its own: changing it
    /// changes neither the model nor the search.</summary>
    public FineTuningOptions KeptOptions { get; }
    /// <summary>Wall time of the search (range test, trials and the final run; not the export).</summary>
    public TimeSpan Elapsed { get; }
    /// <summary>Whether the budget stopped the search before its last round (the final run always trains).</summary>
    public bool CutShortByBudget { get; }
}

/// <summary>A candidate recipe: a name for the log and the changes it makes to a copy of the options.</summary>
internal sealed record RecipeCandidate<TOptions>(string Name, Action<TOptions> Apply);

/// <summary>How the kept recipe's final run trains when the search validated on rows it held out itself: on all the
/// rows (the held-out ones too, without validation), which take <paramref name="RowsFactor"/> times the search's
/// training rows and are read again first, in about <paramref name="ReadSeconds"/> (the first read's time: decoding
/// every image again is part of the final run's cost).</summary>
internal sealed record FinalRunOnAllRows<TOptions, TModel>(Func<TOptions, (TModel Model, TrainingResult Result)> Train, double RowsFactor, double ReadSeconds = 0);

/// <summary>
/// The automatic recipe: a learning-rate range test, then successive halving (Jamieson and Talwalkar 2016; the
/// scheme Hyperband repeats) over candidate recipes within a time budget. Round r trains every survivor from the
/// pretrained weights for E / 2^(R−r) epochs (E the options' epochs, R the number of halving rounds), ranks them by
/// validation, and keeps the better half. A challenger ranks by its validation score less one standard error of its
/// difference from the options as given, when those ran as long (<c>margin</c>): the defaults are the quality suite's
/// choice over many data sets, so a challenger replaces them only when the held-out rows say it is better by more than
/// their noise (docs/quality.md, "The automatic recipe's margin, and the text steps' pace", and "A paired margin"). The
/// winner then trains for all E epochs: on all the rows when the search held out its own validation rows
/// (<see cref="FinalRunOnAllRows{TOptions,TModel}"/>), so the kept model sees as much data as the options' plain run
/// would; otherwise on the same rows, unless the winner already ran that long.
/// The final run's time is reserved from the start: the range test stops as soon as its pace says that it, one trial
/// and the final run cannot all end within the budget, and a trial runs only when the measured pace (the slowest
/// epoch seen so far, so that a costlier candidate does not overrun) says it and the final run both fit. So the budget
/// bounds the whole call, and when it is too small for a search the final run trains the options as given: the search
/// can cut itself short, never the model. Every run uses the options' seed, so the search is reproducible and the ranking compares
/// recipes, not luck.
/// </summary>
/// <typeparam name="TOptions">The estimator's options.</typeparam>
/// <typeparam name="TModel">What a trial returns and the caller keeps: the trained model.</typeparam>
internal sealed class RecipeSearch<TOptions, TModel>(
    TOptions baseOptions,
    Func<TOptions, TOptions> clone,
    Func<TOptions, (TModel Model, TrainingResult Result)> train,
    FinalRunOnAllRows<TOptions, TModel>? finalRun,
    IChannel? log,
    Func<TrainingResult, TrainingResult, double>? margin = null,   // the standard error of the difference between a
                                      // challenger's validation score and the options as given's, from their two results;
                                      // null where none is known (a loss): scores rank as they are
    Func<TimeSpan>? clock = null)
    where TOptions : FineTuningOptions
    where TModel : IDisposable
{
    private readonly Func<TimeSpan> clock = clock ?? WallClock();

    /// <summary>Range-test steps before its pace is timed.</summary>
    private const int WarmUpSteps = 10;

    private static Func<TimeSpan> WallClock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed;
    }

    /// <summary>The kept model (the caller owns it), the options it trained with, its result, and the search record.</summary>
    /// <param name="rangeTest">Runs the range test on a copy of the options, asking the given function after each step
    /// (steps done, steps planned) whether to go on; null when it was stopped.</param>
    /// <param name="candidatesFor">The candidates, given the range test's suggested rate (null when there is none to try);
    /// the first is the options as given.</param>
    /// <param name="batchesPerEpoch">Training batches in one epoch of the search's rows: with the range test's time per
    /// step, the first estimate of an epoch's cost.</param>
    /// <param name="budget">Wall time for the whole call.</param>
    public (TModel Model, TOptions Options, TrainingResult Result, RecipeSearchResult Search) Run(
        Func<TOptions, Func<int, int, bool>, LearningRateRange?> rangeTest, Func<double?, IReadOnlyList<RecipeCandidate<TOptions>>> candidatesFor,
        long batchesPerEpoch, TimeSpan budget)
    {
        var start = clock();
        TimeSpan Elapsed() => clock() - start;
        int epochs = baseOptions.Epochs;

        double rowsFactor = finalRun?.RowsFactor ?? 1, readAgain = finalRun?.ReadSeconds ?? 0;
        // The range test costs about as much as one short trial (its steps are capped at two passes over the data); its
        // time per step gives the first pace, and stops it when the search could not follow it within the budget. The
        // pace is timed from the end of the warm-up steps, and what those steps took beyond it is the set-up every run
        // pays once (building the model, the first steps' one-time costs): ResNet-18 on 3,048 glyphs at 32 px, 2 CPU
        // cores, took 2 s to the third step against 0.13 s a step after it (2026-12-06); averaged in as steps, that
        // five-fold pace left no room for any search. Text pays longer: a batch is as long as its longest row, and a
        // length's first batch costs more. On fortune topics and languages (2 cores, 2026-12-07) steps 4 to 13 took 1.5
        // times the mean of steps 4 to 99 (the 4th alone 3.4-3.7 s, the mean 0.5-0.7 s), and the pace of step 4 alone
        // stopped the test in 4 runs of 6 at a 6-minute budget that held a search. So the warm-up is 10 steps, and while
        // the test runs its pace is the median of the steps timed so far (from the third: the steps' times are
        // heavy-tailed, 0.06 to 2.1 s after the warm-up); after it, their mean, and then each trial's own time.
        double warmedAt = 0, lastAt = 0;
        var stepTimes = new List<double>();
        double StepSeconds(int done) => (Elapsed().TotalSeconds - warmedAt) / (done - WarmUpSteps);
        double SetUpSeconds(double perStep) => Math.Max(0, warmedAt - WarmUpSteps * perStep);
        bool KeepTesting(int done, int planned)
        {
            double now = Elapsed().TotalSeconds;
            if (done > WarmUpSteps) stepTimes.Add(now - lastAt);
            lastAt = now;
            if (done == WarmUpSteps) warmedAt = now;
            if (stepTimes.Count < 3) return true;
            double perStep = Median(stepTimes);
            double epoch = perStep * batchesPerEpoch, setUp = SetUpSeconds(perStep);
            // the rest of the test, the shortest trial (one epoch) and the final run, each run with its set-up
            return Elapsed().TotalSeconds + perStep * (planned - done) + setUp + epoch + readAgain + setUp + epoch * epochs * rowsFactor <= budget.TotalSeconds;
        }
        var range = rangeTest(clone(baseOptions), KeepTesting);
        double secondsPerEpoch = 0, setUpSeconds = 0;
        if (range is { Points.Count: > WarmUpSteps })
        {
            double perStep = StepSeconds(range.Points.Count);
            (secondsPerEpoch, setUpSeconds) = (perStep * batchesPerEpoch, SetUpSeconds(perStep));
        }
        else if (range != null) secondsPerEpoch = Elapsed().TotalSeconds / Math.Max(1, range.Points.Count) * batchesPerEpoch;   // diverged at once
        else if (stepTimes.Count > 0)   // stopped: its pace so far, for the final run's estimate
        {
            double perStep = Median(stepTimes);
            (secondsPerEpoch, setUpSeconds) = (perStep * batchesPerEpoch, SetUpSeconds(perStep));
        }
        Info(range == null
            ? $"automatic recipe: the budget ({budget.TotalSeconds:F0} s) leaves no room for a search beside the final run ({Elapsed().TotalSeconds:F0} s of range test); the options as given train"
            : range.LossFellClearly
            ? $"automatic recipe: range test suggests learning rate {range.SuggestedLearningRate:G2} ({Elapsed().TotalSeconds:F0} s of {budget.TotalSeconds:F0} s)"
            : $"automatic recipe: range test's loss did not fall clearly below its start ({Elapsed().TotalSeconds:F0} s of {budget.TotalSeconds:F0} s); " +
              $"its suggestion ({range.SuggestedLearningRate:G2}) is noise, so only the options' rate is tried");
        // A curve that is noise until it blows up (a regression's batch losses) suggests a rate at random: not a candidate.
        var candidates = candidatesFor(range is { LossFellClearly: true } ? range.SuggestedLearningRate : null);
        if (candidates.Count == 0) throw new InvalidOperationException("The automatic recipe needs at least one candidate.");
        if (range == null) candidates = [candidates[0]];
        var given = candidates[0];
        // What a trial ranks by: its validation score, less, for a challenger, the margin against the options as given's
        // run of the same length (none when those did not run as long: halving dropped them, or they have not run yet in
        // this round, and then ranking again once they have puts the margin in). A lead no larger than the margin keeps
        // the options as given (one row's lead is exactly one standard error): 1e-9 absorbs the two figures' rounding.
        var givenRuns = new Dictionary<int, TrainingResult>();   // the options as given's results, by epochs
        double Ranked(RecipeTrial trial, TrainingResult result) =>
            trial.Recipe == given.Name || margin == null || double.IsNaN(trial.Score) || !givenRuns.TryGetValue(trial.Epochs, out var g)
                ? trial.Score : trial.Score - margin(result, g) - 1e-9;

        int rounds = (int)Math.Ceiling(Math.Log2(candidates.Count));
        var trials = new List<RecipeTrial>();
        (TModel Model, TOptions Options, TrainingResult Result, RecipeTrial Trial)? best = null;
        double RankedBest() => best is { } b ? Ranked(b.Trial, b.Result) : double.NegativeInfinity;
        bool cutShort = false;

        double FinalSeconds() => readAgain + setUpSeconds + secondsPerEpoch * epochs * rowsFactor;
        bool Fits(int e, int runs = 1) => Elapsed().TotalSeconds + runs * (setUpSeconds + secondsPerEpoch * e) + FinalSeconds() <= budget.TotalSeconds;

        (TModel Model, TOptions Options, TrainingResult Result, RecipeTrial Trial) Train(
            RecipeCandidate<TOptions> c, int rung, int e, Func<TOptions, (TModel Model, TrainingResult Result)> run)
        {
            var o = clone(baseOptions);
            c.Apply(o);
            o.Epochs = e;
            o.CheckpointDirectory = null;   // trials are throw-away runs; the kept one gets the folder back below
            var t0 = clock();
            var (model, result) = run(o);
            double seconds = (clock() - t0).TotalSeconds;
            var trial = new RecipeTrial(c.Name, rung, e, Score(result), Math.Round(seconds, 1));
            trials.Add(trial);
            return (model, o, result, trial);
        }

        (RecipeTrial Trial, TrainingResult Result)? RunTrial(RecipeCandidate<TOptions> c, int rung, int e)
        {
            if (!Fits(e)) { cutShort = true; return null; }
            var t0 = clock();
            var run = Train(c, rung, e, train);
            secondsPerEpoch = Math.Max(secondsPerEpoch, ((clock() - t0).TotalSeconds - setUpSeconds) / e);
            if (c == given) givenRuns[e] = run.Result;
            double ranked = Ranked(run.Trial, run.Result);
            Info($"automatic recipe: round {rung}, {c.Name}, {e} epoch(s): validation {run.Trial.Score:F4} in {run.Trial.Seconds:F0} s" +
                 (Math.Abs(ranked - run.Trial.Score) > 1e-6 ? $" (ranks as {ranked:F4}: less one standard error of its difference from the options as given)" : "") +
                 (run.Result.NotLearned != null ? " (learned nothing: its training loss stayed at a constant answer's)" : ""));
            // Keep the best model of the longest runs so far (a longer run is the better estimate of the final one).
            if (best is not { } b || e > b.Trial.Epochs || (e == b.Trial.Epochs && ranked > RankedBest()))
            {
                if (best is { } old) old.Model.Dispose();
                best = run;
            }
            else run.Model.Dispose();
            return (run.Trial, run.Result);
        }

        var survivors = candidates.ToList();
        var scores = new Dictionary<RecipeCandidate<TOptions>, (RecipeTrial Trial, TrainingResult Result)>();   // the last rung's that ran, by candidate
        int lastEpochs = 0;
        for (int rung = 0; rung < rounds && survivors.Count > 1 && !cutShort; rung++)
        {
            int e = Math.Max(1, (int)Math.Round(epochs / Math.Pow(2, rounds - rung)));
            // With few epochs and many candidates a rung can be as long as the last one (5 epochs, 8 candidates: 1, 1, 2).
            // Its runs would only repeat the last rung's, seeded alike, to the same scores: halve on those instead.
            if (e != lastEpochs)
            {
                // A round is a comparison: when two of its runs cannot fit, one alone would rank nothing, and the final
                // run trains the leader so far all the same (measured: a 4-minute budget on the glyph regression sets
                // ran one 2-epoch trial of two in 4 runs of 9, 23-28 s that changed no choice).
                if (!Fits(e, runs: 2)) { cutShort = true; break; }
                scores.Clear();
                foreach (var c in survivors)
                    if (RunTrial(c, rung, e) is { } run) scores[c] = run;
            }
            else Info($"automatic recipe: round {rung} would repeat round {rung - 1}'s {e}-epoch runs; halving on their scores");
            var scored = survivors.Where(scores.ContainsKey).ToList();
            if (scored.Count == 0) break;
            // Stable: equal scores keep the candidates' order (the defaults come first).
            survivors = scored.OrderByDescending(c => Ranked(scores[c].Trial, scores[c].Result)).Take((scored.Count + 1) / 2).ToList();
            lastEpochs = e;
        }
        var winner = survivors[0];
        if (trials.Count == 0 && range != null)
            Info(candidates.Count == 1
                ? "automatic recipe: one candidate (the options as given), so no trial compares anything; they train"
                : $"automatic recipe: the budget ({budget.TotalSeconds:F0} s) leaves no room for a trial beside the final run; the options as given train");
        cutShort |= range == null;

        // The final run was reserved, so it always runs and is never cut: it ends past the budget only if the pace estimate
        // was low, or if it alone is longer than the budget (spam-assassin's 4.5-5 minutes against 3, docs/quality.md
        // "A paired margin"), and then the user hears so first.
        void WarnIfPastBudget()
        {
            double estimate = FinalSeconds(), end = Elapsed().TotalSeconds + estimate;
            if (secondsPerEpoch > 0 && end > 1.1 * budget.TotalSeconds)
                log?.Warning(MessageSensitivity.None,
                    $"automatic recipe: the final run ({winner.Name}, {epochs} epoch(s)) takes about {estimate:F0} s at the pace measured, so " +
                    $"Fit ends about {end - budget.TotalSeconds:F0} s past its time budget of {budget.TotalSeconds:F0} s (the model is not cut short); " +
                    "a budget of at least twice the options' own run leaves room for a search");
        }
        if (finalRun != null)
        {
            if (best is { } b) b.Model.Dispose();
            WarnIfPastBudget();
            var t0 = clock();
            best = Train(winner, rounds, epochs, finalRun.Train);
            Info($"automatic recipe: final run, {winner.Name}, {epochs} epoch(s) on all rows in {(clock() - t0).TotalSeconds:F0} s");
        }
        else if (best is not { } kept || kept.Trial.Recipe != winner.Name || kept.Trial.Epochs < epochs)
        {
            best?.Model.Dispose();
            WarnIfPastBudget();   // without a final run on all rows, FinalSeconds() is the same rows' run
            best = Train(winner, rounds, epochs, train);
            Info($"automatic recipe: final run, {winner.Name}, {epochs} epoch(s): validation {best.Value.Trial.Score:F4}");
        }
        var final = best!.Value;
        final.Options.CheckpointDirectory = baseOptions.CheckpointDirectory;
        var keptOptions = clone(final.Options);
        keptOptions.TimeBudget = null;
        var search = new RecipeSearchResult(range, trials, final.Trial, keptOptions, Elapsed(), cutShort);
        Info($"automatic recipe: kept {final.Trial.Recipe} after {trials.Count} run{(trials.Count == 1 ? "" : "s")} in {search.Elapsed.TotalSeconds:F0} s" +
             (cutShort ? " (the budget cut the search short)" : ""));
        return (final.Model, final.Options, final.Result with { Search = search }, search);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The run's best validation figure, higher better; NaN for a run without validation.</summary>
    private double Score(TrainingResult r) =>
        r.BestMetric is not double m ? double.NaN
        : baseOptions.EarlyStoppingMetric == EarlyStoppingMetric.Loss ? -m : m;

    private void Info(string message) => log?.Info(MessageSensitivity.None, message);
}
