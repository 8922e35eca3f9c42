using System.Diagnostics;
using Microsoft.ML.Runtime;

namespace MLNet.FineTuning.Training;

/// <summary>One training run of the automatic recipe: which settings, how many epochs, what validation said.</summary>
/// <param name="Recipe">The settings that differ from the options given, e.g. <c>lr=0.002, bb=1, aug=None</c>.</param>
/// <param name="Rung">0 for the first round of successive halving, 1 for the next, …; the final run has the highest.</param>
/// <param name="Epochs">Epochs the run trained.</param>
/// <param name="Score">Its best validation figure (accuracy, or −loss when <c>EarlyStoppingMetric</c> is Loss): higher is better.</param>
/// <param name="Seconds">Wall time of the run, model building included.</param>
public sealed record RecipeTrial(string Recipe, int Rung, int Epochs, double Score, double Seconds);

/// <summary>What the automatic recipe (<see cref="FineTuningOptions.TimeBudget"/>) did: the learning-rate range test,
/// every trial in order, and the recipe it kept.</summary>
public sealed class RecipeSearchResult
{
    internal RecipeSearchResult(LearningRateRange range, IReadOnlyList<RecipeTrial> trials, RecipeTrial chosen, TimeSpan elapsed, bool cutShort)
    {
        LearningRateRange = range;
        Trials = trials;
        Chosen = chosen;
        Elapsed = elapsed;
        CutShortByBudget = cutShort;
    }

    /// <summary>The range test run first; its suggestion is one of the candidate rates.</summary>
    public LearningRateRange LearningRateRange { get; }
    /// <summary>Every trial, in the order it ran.</summary>
    public IReadOnlyList<RecipeTrial> Trials { get; }
    /// <summary>The trial whose model was kept.</summary>
    public RecipeTrial Chosen { get; }
    /// <summary>Wall time of the search (range test and trials; not the export).</summary>
    public TimeSpan Elapsed { get; }
    /// <summary>Whether the budget stopped the search before its last run.</summary>
    public bool CutShortByBudget { get; }
}

/// <summary>A candidate recipe: a name for the log and the changes it makes to a copy of the options.</summary>
internal sealed record RecipeCandidate<TOptions>(string Name, Action<TOptions> Apply);

/// <summary>
/// The automatic recipe: a learning-rate range test, then successive halving (Jamieson and Talwalkar 2016; the
/// scheme Hyperband repeats) over candidate recipes within a time budget. Round r trains every survivor from the
/// pretrained weights for E / 2^(R−r) epochs (E the options' epochs, R the number of halving rounds), ranks them by
/// validation, and keeps the better half; the winner then trains for all E epochs, unless it already has. Every run
/// uses the options' seed, so the search is reproducible and the ranking compares recipes, not luck. A run that the
/// measured pace says would end past the budget is not started; the best model trained so far is kept instead.
/// </summary>
/// <typeparam name="TOptions">The estimator's options.</typeparam>
/// <typeparam name="TModel">What a trial returns and the caller keeps: the trained model.</typeparam>
internal sealed class RecipeSearch<TOptions, TModel>(
    TOptions baseOptions,
    Func<TOptions, TOptions> clone,
    Func<TOptions, (TModel Model, TrainingResult Result)> train,
    IChannel? log,
    Func<TimeSpan>? clock = null)
    where TOptions : FineTuningOptions
    where TModel : IDisposable
{
    private readonly Func<TimeSpan> clock = clock ?? WallClock();

    private static Func<TimeSpan> WallClock()
    {
        var watch = Stopwatch.StartNew();
        return () => watch.Elapsed;
    }

    /// <summary>The kept model (the caller owns it), the options it trained with, its result, and the search record.</summary>
    public (TModel Model, TOptions Options, TrainingResult Result, RecipeSearchResult Search) Run(
        Func<TOptions, LearningRateRange> rangeTest, Func<double, IReadOnlyList<RecipeCandidate<TOptions>>> candidatesFor, TimeSpan budget)
    {
        var start = clock();
        TimeSpan Elapsed() => clock() - start;
        int epochs = baseOptions.Epochs;

        // The range test costs about as much as one short trial (its steps are capped at two passes over the data).
        var range = rangeTest(clone(baseOptions));
        Info($"automatic recipe: range test suggests learning rate {range.SuggestedLearningRate:G2} ({Elapsed().TotalSeconds:F0} s of {budget.TotalSeconds:F0} s)");
        var candidates = candidatesFor(range.SuggestedLearningRate);
        if (candidates.Count == 0) throw new InvalidOperationException("The automatic recipe needs at least one candidate.");

        int rounds = (int)Math.Ceiling(Math.Log2(candidates.Count));
        var trials = new List<RecipeTrial>();
        double secondsPerEpoch = 0;   // measured pace: mean over finished trials
        int epochsSeen = 0;
        double secondsSeen = 0;
        (TModel Model, TOptions Options, TrainingResult Result, RecipeTrial Trial)? best = null;
        bool cutShort = false;

        bool Fits(int e) => epochsSeen == 0 || Elapsed().TotalSeconds + secondsPerEpoch * e <= budget.TotalSeconds;

        double? RunTrial(RecipeCandidate<TOptions> c, int rung, int e)
        {
            if (!Fits(e)) { cutShort = true; return null; }
            var o = clone(baseOptions);
            c.Apply(o);
            o.Epochs = e;
            o.CheckpointDirectory = null;   // trials are throw-away runs; the kept one gets the folder back below
            var t0 = clock();
            var (model, result) = train(o);
            double seconds = (clock() - t0).TotalSeconds;
            epochsSeen += e; secondsSeen += seconds; secondsPerEpoch = secondsSeen / epochsSeen;
            double score = Score(result);
            var trial = new RecipeTrial(c.Name, rung, e, score, Math.Round(seconds, 1));
            trials.Add(trial);
            Info($"automatic recipe: round {rung}, {c.Name}, {e} epoch(s): validation {score:F4} in {seconds:F0} s");
            // Keep the best model of the longest runs so far (a longer run is the better estimate of the final one).
            if (best is not { } b || e > b.Trial.Epochs || (e == b.Trial.Epochs && score > b.Trial.Score))
            {
                if (best is { } old) old.Model.Dispose();
                best = (model, o, result, trial);
            }
            else model.Dispose();
            return score;
        }

        var survivors = candidates.ToList();
        for (int rung = 0; rung < rounds && survivors.Count > 1; rung++)
        {
            int e = Math.Max(1, (int)Math.Round(epochs / Math.Pow(2, rounds - rung)));
            var scored = new List<(RecipeCandidate<TOptions> Candidate, double Score)>();
            foreach (var c in survivors)
                if (RunTrial(c, rung, e) is double score) scored.Add((c, score));
            if (scored.Count == 0) break;
            // Stable: equal scores keep the candidates' order (the defaults come first).
            survivors = scored.OrderByDescending(x => x.Score).Take((scored.Count + 1) / 2).Select(x => x.Candidate).ToList();
        }
        // The winner trains for all the epochs, unless the kept model already is that run (or the budget says no).
        var winner = survivors[0];
        if (best is not { } kept || kept.Trial.Recipe != winner.Name || kept.Trial.Epochs < epochs) RunTrial(winner, rounds, epochs);
        if (best is not { } final)
            throw new InvalidOperationException($"The time budget ({budget.TotalSeconds:F0} s) left no room for a single training run.");
        var search = new RecipeSearchResult(range, trials, final.Trial, Elapsed(), cutShort);
        Info($"automatic recipe: kept {final.Trial.Recipe} ({final.Trial.Epochs} epochs, validation {final.Trial.Score:F4}) after {trials.Count} runs in {search.Elapsed.TotalSeconds:F0} s" +
             (cutShort ? " (the budget cut the search short)" : ""));
        final.Options.CheckpointDirectory = baseOptions.CheckpointDirectory;
        return (final.Model, final.Options, final.Result with { Search = search }, search);
    }

    private double Score(TrainingResult r) =>
        r.BestMetric is not double m ? double.NegativeInfinity
        : baseOptions.EarlyStoppingMetric == EarlyStoppingMetric.Loss ? -m : m;

    private void Info(string message) => log?.Info(MessageSensitivity.None, message);
}
