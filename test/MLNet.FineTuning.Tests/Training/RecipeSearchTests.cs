using Microsoft.ML;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Tests.Training;

public class RecipeSearchTests
{
    /// <summary>A trained "model" that only records whether it was disposed.</summary>
    private sealed class FakeModel(string recipe, int epochs) : IDisposable
    {
        public string Recipe { get; } = recipe;
        public int Epochs { get; } = epochs;
        public bool AllRows { get; init; }
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    /// <summary>
    /// Candidates whose validation score is their quality times a factor that grows with the epochs: the ranking is
    /// the same at every length, as successive halving assumes. Every run advances a fake clock by 10 s per epoch
    /// (12.5 s for a final run on all rows, a quarter more of them); the range test takes 5 steps in 5 s, and an epoch
    /// has 10 batches, so the first pace estimate is right.
    /// </summary>
    private static (RecipeSearch<LoraTextClassifier.Options, FakeModel> Search, List<FakeModel> Models) Setup(
        Dictionary<double, double> qualityByRate, TimeSpan[] clock, bool finalOnAllRows = false, int epochs = 8,
        Microsoft.ML.Runtime.IChannel? log = null, double? learnsNothingAt = null, double readSeconds = 0,
        Func<double, bool[]>? hitsByRate = null, Func<TrainingResult, TrainingResult, double>? margin = null)
    {
        var models = new List<FakeModel>();
        (FakeModel, TrainingResult) Train(LoraTextClassifier.Options o, bool allRows)
        {
            Assert.Null(o.CheckpointDirectory);   // the search's throw-away runs write no checkpoints
            clock[0] += TimeSpan.FromSeconds(10 * o.Epochs * (allRows ? 1.25 : 1) + (allRows ? readSeconds : 0));
            var model = new FakeModel($"lr={o.LearningRate:G2}", o.Epochs) { AllRows = allRows };
            models.Add(model);
            // With per-row hits, the score is their share, as the loop's accuracy is.
            var hits = hitsByRate?.Invoke(o.LearningRate);
            double score = hits != null ? hits.Count(h => h) / (double)hits.Length : qualityByRate[o.LearningRate] * (1 - 1.0 / (o.Epochs + 1));
            return (model, new TrainingResult(o.Epochs, false, o.Epochs - 1, allRows ? null : score, [])
                { NotLearned = o.LearningRate == learnsNothingAt ? "Training did not learn" : null, ValidationHits = allRows ? null : hits });
        }
        var search = new RecipeSearch<LoraTextClassifier.Options, FakeModel>(
            new LoraTextClassifier.Options { Epochs = epochs, LearningRate = 1e-3, CheckpointDirectory = "checkpoints" }, o => o.Clone(),
            o => Train(o, allRows: false), finalOnAllRows ? new FinalRunOnAllRows<LoraTextClassifier.Options, FakeModel>(o => Train(o, allRows: true), 1.25, readSeconds) : null,
            log, margin, clock: () => clock[0]);
        return (search, models);
    }

    private static IReadOnlyList<RecipeCandidate<LoraTextClassifier.Options>> Rates(params double[] rates) =>
        rates.Select(r => new RecipeCandidate<LoraTextClassifier.Options>($"lr={r:G2}", o => o.LearningRate = r)).ToList();

    /// <summary>Range-test steps (five unless told) of 1 s each, or <paramref name="stepSeconds"/>, asking
    /// <paramref name="keepGoing"/> after each but the last, as the loop does; the first also pays
    /// <paramref name="setupSeconds"/> (building the model, one-time costs).</summary>
    private static LearningRateRange? FakeRange(TimeSpan[] clock, Func<int, int, bool> keepGoing, double setupSeconds = 0, int steps = 5,
                                                Func<int, double>? stepSeconds = null)
    {
        for (int step = 1; step <= steps; step++)
        {
            clock[0] += TimeSpan.FromSeconds((stepSeconds?.Invoke(step) ?? 1) + (step == 1 ? setupSeconds : 0));
            if (step < steps && !keepGoing(step, steps)) return null;
        }
        if (steps == 5) return LearningRateRange.From([1e-4, 1e-3, 1e-2, 1e-1, 1], [2.0, 1.9, 1.0, 0.8, 5.0]);
        var rates = Enumerable.Range(0, steps).Select(i => 1e-4 * Math.Pow(1e4, i / (steps - 1.0))).ToArray();
        return LearningRateRange.From(rates, rates.Select((_, i) => i < steps - 1 ? 2.0 - 1.5 * i / steps : 5.0).ToArray());
    }

    private static readonly Dictionary<double, double> FourRates = new() { [1e-3] = 0.6, [2e-3] = 0.9, [5e-3] = 0.8, [1e-2] = 0.5 };

    private static (FakeModel Model, LoraTextClassifier.Options Options, RecipeSearchResult Record) Search(
        RecipeSearch<LoraTextClassifier.Options, FakeModel> search, TimeSpan[] clock, TimeSpan budget)
    {
        var (model, options, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2), batchesPerEpoch: 10, budget);
        return (model, options, record);
    }

    [Fact]
    public void Run_AmpleBudget_HalvesToTheBestAndTrainsItForAllEpochs()
    {
        var clock = new TimeSpan[1];
        var (search, models) = Setup(FourRates, clock);

        var (model, options, record) = Search(search, clock, TimeSpan.FromHours(1));

        // 4 candidates: round 0 at 8/4 = 2 epochs (4 runs), round 1 at 4 epochs (the best 2), then the winner at 8.
        Assert.Equal([2, 2, 2, 2, 4, 4, 8], record.Trials.Select(t => t.Epochs));
        Assert.Equal(["lr=0.002", "lr=0.005"], record.Trials.Where(t => t.Rung == 1).Select(t => t.Recipe));
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.Equal(8, record.Chosen.Epochs);
        Assert.Equal(2e-3, options.LearningRate);
        Assert.Equal(8, options.Epochs);
        Assert.Equal("checkpoints", options.CheckpointDirectory);   // the kept run's options are the caller's again
        // What the result hands back to train the kept recipe again: those options without the budget, a copy of its own.
        var kept = Assert.IsType<LoraTextClassifier.Options>(record.KeptOptions);
        Assert.NotSame(options, kept);
        Assert.Equal((2e-3, 8, "checkpoints"), (kept.LearningRate, kept.Epochs, kept.CheckpointDirectory));
        Assert.Null(kept.TimeBudget);
        Assert.Same(models[^1], model);
        Assert.False(model.Disposed);
        Assert.All(models.Take(models.Count - 1), m => Assert.True(m.Disposed));   // nothing else stays alive
        Assert.False(record.CutShortByBudget);
        Assert.NotNull(record.LearningRateRange);
    }

    [Fact]
    public void Run_TrialThatLearnedNothing_IsNotedInTheSearchsLogAndOnlyTheKeptRunsCheckReachesFit()
    {
        // Fit warns on the result the search returns; a rejected trial that learned nothing (the range test's rate can
        // be far too low for 1 epoch) is the search's business, told as information, not a warning to act on.
        var messages = new List<(Microsoft.ML.Runtime.ChannelMessageKind Kind, string Message)>();
        var ml = new MLContext(1);
        ml.Log += (_, e) => { lock (messages) messages.Add((e.Kind, e.Message)); };
        var clock = new TimeSpan[1];
        using (var channel = ((Microsoft.ML.Runtime.IHostEnvironment)ml).Start("search"))
        {
            var (search, _) = Setup(FourRates, clock, log: channel, learnsNothingAt: 1e-2);
            var (_, _, kept, _) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2),
                batchesPerEpoch: 10, TimeSpan.FromHours(1));
            Assert.Null(kept.NotLearned);

            var (stuck, _) = Setup(new() { [1e-2] = 0.5 }, clock, log: channel, learnsNothingAt: 1e-2);
            var (_, _, keptStuck, _) = stuck.Run((_, keepGoing) => FakeRange(clock, keepGoing), _ => Rates(1e-2),
                batchesPerEpoch: 10, TimeSpan.FromHours(1));
            Assert.NotNull(keptStuck.NotLearned);   // the kept run's own check travels out for Fit to warn
        }
        Assert.Contains(messages, m => m.Message.Contains("round 0, lr=0.01") && m.Message.Contains("learned nothing"));
        Assert.DoesNotContain(messages, m => m.Message.Contains("round 0, lr=0.002") && m.Message.Contains("learned nothing"));
        Assert.DoesNotContain(messages, m => m.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning);
    }

    /// <summary>Hits on 100 validation rows: rows [from, to) right.</summary>
    private static bool[] RowsRight(int from, int to) => Enumerable.Range(0, 100).Select(i => i >= from && i < to).ToArray();

    [Theory]
    [InlineData(10, 74, true, 1e-3)]    // 4 rows ahead, 14 right and 10 wrong where the options as given differ: within the noise
    [InlineData(0, 64, true, 2e-3)]     // 4 rows ahead and none behind: beyond it (√(p(1−p)/n) = 4.9 rows would have kept 1e-3)
    [InlineData(0, 61, true, 1e-3)]     // one row ahead, none behind: a lead of exactly one standard error keeps them
    [InlineData(0, 62, true, 2e-3)]     // two rows ahead, none behind: the smallest lead that clears it
    [InlineData(10, 74, false, 2e-3)]   // no margin (a loss): the better score wins as it is
    public void Run_ChallengerWithinTheValidationNoise_DoesNotReplaceTheOptionsAsGiven(int from, int to, bool withMargin, double kept)
    {
        var clock = new TimeSpan[1];
        var hits = new Dictionary<double, bool[]>
        {
            [1e-3] = RowsRight(0, 60), [2e-3] = RowsRight(from, to), [5e-3] = RowsRight(0, 50), [1e-2] = RowsRight(0, 40),
        };
        var (search, _) = Setup(FourRates, clock, finalOnAllRows: true, hitsByRate: r => hits[r],
            margin: withMargin ? ValidationMargin.For(EarlyStoppingMetric.Accuracy, 100) : null);

        var (_, options, record) = Search(search, clock, TimeSpan.FromHours(1));

        // Both rounds ran; the options as given (1e-3) survive round 0 either way, as the first or second of four.
        Assert.Equal(["lr=0.001", "lr=0.002"], record.Trials.Where(t => t.Rung == 1).Select(t => t.Recipe).Order());
        Assert.Equal(kept, options.LearningRate);
    }

    [Fact]
    public void Run_RangeTestWithoutAClearFall_TriesTheOptionsRateOnly()
    {
        // 40 losses scattering by ±0.25 around 1 (a regression's batches), then a blow-up: the steepest "fall" is noise,
        // so the candidates are asked for without a suggestion and the options' own rate trains.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(FourRates, clock);
        var rates = Enumerable.Range(0, 44).Select(i => 1e-7 * Math.Pow(10, 7.0 * i / 49)).ToArray();
        var losses = Enumerable.Range(0, 44).Select(i => i < 40 ? 1 + 0.25 * Math.Sin(2.7 * i) : 30.0 * (i - 39)).ToArray();
        var noise = LearningRateRange.From(rates, losses);
        Assert.False(noise.LossFellClearly);
        double? asked = -1;

        var (_, options, _, record) = search.Run((_, keepGoing) => { clock[0] += TimeSpan.FromSeconds(5); return noise; },
            rate => { asked = rate; return Rates(1e-3); }, batchesPerEpoch: 10, TimeSpan.FromHours(1));

        Assert.Null(asked);
        Assert.Equal(1e-3, options.LearningRate);
        Assert.Same(noise, record.LearningRateRange);
    }

    [Fact]
    public void Run_RungAsLongAsTheLast_HalvesOnItsScoresWithoutTrainingAgain()
    {
        // 8 candidates, 5 epochs: rounds at 5/8 → 1, 5/4 → 1 and 5/2 → 2 epochs. The second would train four survivors
        // for 1 epoch again, to the scores they already have: it halves on those, and the third trains the best two.
        var clock = new TimeSpan[1];
        var quality = new Dictionary<double, double>
            { [1e-3] = 0.6, [2e-3] = 0.9, [3e-3] = 0.7, [4e-3] = 0.85, [5e-3] = 0.8, [6e-3] = 0.65, [7e-3] = 0.75, [8e-3] = 0.5 };
        var (search, _) = Setup(quality, clock, epochs: 5);

        var (model, options, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing),
            _ => Rates(1e-3, 2e-3, 3e-3, 4e-3, 5e-3, 6e-3, 7e-3, 8e-3), batchesPerEpoch: 10, TimeSpan.FromHours(1));

        Assert.Equal([1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 5], record.Trials.Select(t => t.Epochs));
        Assert.Equal(["lr=0.002", "lr=0.004"], record.Trials.Where(t => t.Epochs == 2).Select(t => t.Recipe));
        Assert.Equal(2e-3, options.LearningRate);
        Assert.Equal(5, model.Epochs);
    }

    [Fact]
    public void Run_FinalRunOnAllRows_RetrainsTheWinnerWithoutValidation()
    {
        var clock = new TimeSpan[1];
        var (search, models) = Setup(FourRates, clock, finalOnAllRows: true);

        var (model, options, record) = Search(search, clock, TimeSpan.FromHours(1));

        Assert.Equal([2, 2, 2, 2, 4, 4, 8], record.Trials.Select(t => t.Epochs));
        Assert.True(model.AllRows);
        Assert.Equal("lr=0.002", model.Recipe);
        Assert.Equal(2e-3, options.LearningRate);
        Assert.Same(record.Trials[^1], record.Chosen);
        Assert.True(double.IsNaN(record.Chosen.Score));   // no validation rows are left for it
        Assert.Single(models, m => !m.Disposed);
    }

    [Fact]
    public void Run_TightBudget_ReservesTheFinalRunAndStartsNoTrialThatWouldCrowdItOut()
    {
        var clock = new TimeSpan[1];
        var (search, models) = Setup(FourRates, clock, finalOnAllRows: true);

        // 5 s range test, four 20-s trials (each fits with the 100-s final run reserved: 85 + 100 ≤ 200), then round 1's
        // 40-s trials would crowd the final run out (85 + 40 + 100 > 200): the winner of round 0 trains on all rows.
        var (model, _, record) = Search(search, clock, TimeSpan.FromSeconds(200));

        Assert.Equal([2, 2, 2, 2, 8], record.Trials.Select(t => t.Epochs));
        Assert.True(record.CutShortByBudget);
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.True(model.AllRows);
        Assert.True(clock[0] <= TimeSpan.FromSeconds(200));
        Assert.Single(models, m => !m.Disposed);
    }

    [Fact]
    public void Run_RoomForOneTrialOfARoundOnly_StartsNoneOfIt()
    {
        // Round 0 as above (85 s), then round 1's 40-s trials: one fits with the 100-s final run (225 s ≤ 230), two do not
        // (265 s). One trial alone ranks nothing and the final run trains round 0's winner either way: the round is skipped.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(FourRates, clock, finalOnAllRows: true);

        var (model, _, record) = Search(search, clock, TimeSpan.FromSeconds(230));

        Assert.Equal([2, 2, 2, 2, 8], record.Trials.Select(t => t.Epochs));
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.True(record.CutShortByBudget);
        Assert.Equal(TimeSpan.FromSeconds(185), clock[0]);
    }

    [Fact]
    public void Run_FinalRunReadsAllRowsAgain_ReservesThatReadToo()
    {
        // As above, but the final run first reads every row again (20 s: decoding the images). Reserved with it (120 s),
        // the fourth trial no longer fits (65 + 20 + 120 > 200); counted without it, that trial ran and the call ended at
        // 85 + 20 + 100 = 205 s.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(FourRates, clock, finalOnAllRows: true, readSeconds: 20);

        var (model, _, record) = Search(search, clock, TimeSpan.FromSeconds(200));

        Assert.Equal([2, 2, 2, 8], record.Trials.Select(t => t.Epochs));
        Assert.True(model.AllRows);
        Assert.Equal(TimeSpan.FromSeconds(185), clock[0]);
    }

    [Fact]
    public void Run_BudgetTooSmallForATrial_TrainsTheOptionsAsGiven()
    {
        // The range test finishes (5 s), but the shortest trial (20 s) and the final run (80 s) would end past 100 s:
        // no trial starts, and the model is the plain run of the options.
        var clock = new TimeSpan[1];
        var (search, models) = Setup(FourRates, clock);

        var (model, options, record) = Search(search, clock, TimeSpan.FromSeconds(100));

        Assert.NotNull(record.LearningRateRange);
        Assert.Equal(["lr=0.001"], record.Trials.Select(t => t.Recipe));
        Assert.Equal(8, model.Epochs);
        Assert.Equal(1e-3, options.LearningRate);
        Assert.True(record.CutShortByBudget);
        Assert.Single(models);
    }

    [Fact]
    public void Run_SlowFirstStep_IsSetUpNotTheRangeTestsPace()
    {
        // A first step that also builds the model (12 s more) must not count as steps: averaged over the first 11 it says
        // 2.1 s a step, 21 s an epoch, and stops the test (23 + 19 + 21 + 209 > 250 s). Timed after the 10 warm-up steps
        // it is 1 s a step and 12 s of set-up per run: the test ends (32 s), and each 20-s trial starts while it, its
        // set-up and the final run's (12 + 100 s) fit in 250 s: all four of round 0, none of round 1 (two 4-epoch runs:
        // 112 + 2 × (12 + 40) + 112 > 250).
        var clock = new TimeSpan[1];
        var (search, _) = Setup(FourRates, clock, finalOnAllRows: true);

        var (_, _, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing, setupSeconds: 12, steps: 20), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2),
                                           batchesPerEpoch: 10, TimeSpan.FromSeconds(250));

        Assert.NotNull(record.LearningRateRange);
        Assert.Equal([2, 2, 2, 2, 8], record.Trials.Select(t => t.Epochs));
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.True(record.CutShortByBudget);
    }

    [Fact]
    public void Run_SlowFirstTimedStep_DoesNotStopTheRangeTest()
    {
        // Step times scatter (a text batch is as long as its longest row). The first timed step (the 11th) takes 8 s, the
        // others 1 s: alone it would say 8 s a step, 80 s an epoch and a 640-s final run, far past 300 s. Judged from the
        // third timed step by the median (1 s), the test goes on to its end and the search runs.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(FourRates, clock);

        var (_, _, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing, steps: 30, stepSeconds: step => step == 11 ? 8 : 1),
                                           _ => Rates(1e-3, 2e-3, 5e-3, 1e-2), batchesPerEpoch: 10, TimeSpan.FromSeconds(300));

        Assert.NotNull(record.LearningRateRange);
        Assert.True(record.Trials.Count > 1);
    }

    [Fact]
    public void Run_BudgetTooSmallForTheRangeTest_StopsItAndTrainsTheOptionsAsGiven()
    {
        // After 13 of the range test's 20 steps its pace (the median step after the 10 warm-up steps, 1 s, so 10 s an
        // epoch; judged from the third timed step) says that the rest of it (7 s), one 1-epoch trial (10 s) and the final
        // run (80 s) would end past 90 s: it stops there, and the options train.
        var clock = new TimeSpan[1];
        var (search, models) = Setup(FourRates, clock);

        var (model, options, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing, steps: 20), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2),
                                                     batchesPerEpoch: 10, TimeSpan.FromSeconds(90));

        Assert.Null(record.LearningRateRange);
        Assert.Equal(["lr=0.001"], record.Trials.Select(t => t.Recipe));
        Assert.Equal(8, model.Epochs);
        Assert.Equal(1e-3, options.LearningRate);
        Assert.True(record.CutShortByBudget);
        Assert.Equal(TimeSpan.FromSeconds(93), clock[0]);   // 13 steps of the range test, then the 80-s run
        Assert.Single(models);
    }

    [Theory]
    [InlineData(90, false)]   // the final run (80 s) after 13 s of range test ends at 93 s: within a tenth of the budget
    [InlineData(40, true)]    // ... 53 s past a 40-s budget: the user is warned before it starts
    public void Run_FinalRunAlonePastTheBudget_WarnsBeforeTrainingIt(double budgetSeconds, bool warns)
    {
        var messages = new List<(Microsoft.ML.Runtime.ChannelMessageKind Kind, string Message)>();
        var ml = new MLContext(1);
        ml.Log += (_, e) => { lock (messages) messages.Add((e.Kind, e.Message)); };
        var clock = new TimeSpan[1];
        using (var channel = ((Microsoft.ML.Runtime.IHostEnvironment)ml).Start("search"))
        {
            var (search, _) = Setup(FourRates, clock, log: channel);
            var (model, _, _, record) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing, steps: 20), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2),
                                                   batchesPerEpoch: 10, TimeSpan.FromSeconds(budgetSeconds));
            Assert.Null(record.LearningRateRange);
            Assert.Equal(8, model.Epochs);   // never cut short
        }
        var warnings = messages.Where(m => m.Kind == Microsoft.ML.Runtime.ChannelMessageKind.Warning).Select(m => m.Message).ToList();
        if (warns) Assert.Contains(warnings, m => m.Contains("takes about 80 s") && m.Contains("about 53 s past its time budget of 40 s"));
        else Assert.Empty(warnings);
    }

    [Fact]
    public void Run_EqualScores_KeepTheFirstCandidate()
    {
        // The options as given come first: a tie must not trade them for another recipe.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(new Dictionary<double, double> { [1e-3] = 0.7, [2e-3] = 0.7 }, clock);

        var (_, options, _, _) = search.Run((_, keepGoing) => FakeRange(clock, keepGoing), _ => Rates(1e-3, 2e-3), batchesPerEpoch: 10, TimeSpan.FromHours(1));

        Assert.Equal(1e-3, options.LearningRate);
    }

    [Fact]
    public void Options_TimeBudgetWithResume_ThrowsNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => new MLContext(1).MulticlassClassification.Trainers.LoraTextClassifier(
            new LoraTextClassifier.Options { TimeBudget = TimeSpan.FromMinutes(1), ResumeFromCheckpoint = "somewhere" }));
        Assert.Equal(nameof(FineTuningOptions.TimeBudget), e.ParamName);
    }
}
