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
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    /// <summary>
    /// Candidates whose validation score is their quality times a factor that grows with the epochs: the ranking is
    /// the same at every length, as successive halving assumes. Every run advances a fake clock by 10 s per epoch.
    /// </summary>
    private static (RecipeSearch<LoraTextClassifier.Options, FakeModel> Search, List<FakeModel> Models) Setup(
        Dictionary<double, double> qualityByRate, TimeSpan[] clock)
    {
        var models = new List<FakeModel>();
        var search = new RecipeSearch<LoraTextClassifier.Options, FakeModel>(
            new LoraTextClassifier.Options { Epochs = 8, LearningRate = 1e-3, CheckpointDirectory = "checkpoints" }, o => o.Clone(), o =>
            {
                Assert.Null(o.CheckpointDirectory);   // the search's throw-away runs write no checkpoints
                clock[0] += TimeSpan.FromSeconds(10 * o.Epochs);
                var model = new FakeModel($"lr={o.LearningRate:G2}", o.Epochs);
                models.Add(model);
                double score = qualityByRate[o.LearningRate] * (1 - 1.0 / (o.Epochs + 1));
                return (model, new TrainingResult(o.Epochs, false, o.Epochs - 1, score, []));
            }, log: null, clock: () => clock[0]);
        return (search, models);
    }

    private static IReadOnlyList<RecipeCandidate<LoraTextClassifier.Options>> Rates(params double[] rates) =>
        rates.Select(r => new RecipeCandidate<LoraTextClassifier.Options>($"lr={r:G2}", o => o.LearningRate = r)).ToList();

    private static LearningRateRange FakeRange(TimeSpan[] clock)
    {
        clock[0] += TimeSpan.FromSeconds(5);
        return LearningRateRange.From([1e-4, 1e-3, 1e-2, 1e-1, 1], [2.0, 1.9, 1.0, 0.8, 5.0]);
    }

    [Fact]
    public void Run_AmpleBudget_HalvesToTheBestAndTrainsItForAllEpochs()
    {
        var clock = new TimeSpan[1];
        var quality = new Dictionary<double, double> { [1e-3] = 0.6, [2e-3] = 0.9, [5e-3] = 0.8, [1e-2] = 0.5 };
        var (search, models) = Setup(quality, clock);

        var (model, options, _, record) = search.Run(_ => FakeRange(clock), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2), TimeSpan.FromHours(1));

        // 4 candidates: round 0 at 8/4 = 2 epochs (4 runs), round 1 at 4 epochs (the best 2), then the winner at 8.
        Assert.Equal([2, 2, 2, 2, 4, 4, 8], record.Trials.Select(t => t.Epochs));
        Assert.Equal(["lr=0.002", "lr=0.005"], record.Trials.Where(t => t.Rung == 1).Select(t => t.Recipe));
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.Equal(8, record.Chosen.Epochs);
        Assert.Equal(2e-3, options.LearningRate);
        Assert.Equal(8, options.Epochs);
        Assert.Equal("checkpoints", options.CheckpointDirectory);   // the kept run's options are the caller's again
        Assert.Same(models[^1], model);
        Assert.False(model.Disposed);
        Assert.All(models.Take(models.Count - 1), m => Assert.True(m.Disposed));   // nothing else stays alive
        Assert.False(record.CutShortByBudget);
        Assert.NotNull(record.LearningRateRange);
    }

    [Fact]
    public void Run_TightBudget_StartsNoRunThatWouldEndPastItAndKeepsTheBestSoFar()
    {
        var clock = new TimeSpan[1];
        var quality = new Dictionary<double, double> { [1e-3] = 0.6, [2e-3] = 0.9, [5e-3] = 0.8, [1e-2] = 0.5 };
        var (search, models) = Setup(quality, clock);

        // 5 s range test + four 20-s runs = 85 s; the next round's 40-s runs would end past 100 s.
        var (model, _, _, record) = search.Run(_ => FakeRange(clock), _ => Rates(1e-3, 2e-3, 5e-3, 1e-2), TimeSpan.FromSeconds(100));

        Assert.Equal(4, record.Trials.Count);
        Assert.True(record.CutShortByBudget);
        Assert.Equal("lr=0.002", record.Chosen.Recipe);
        Assert.Equal("lr=0.002", model.Recipe);
        Assert.True(clock[0] <= TimeSpan.FromSeconds(100));
        Assert.Single(models, m => !m.Disposed);
    }

    [Fact]
    public void Run_EqualScores_KeepTheFirstCandidate()
    {
        // The options as given come first: a tie must not trade them for another recipe.
        var clock = new TimeSpan[1];
        var (search, _) = Setup(new Dictionary<double, double> { [1e-3] = 0.7, [2e-3] = 0.7 }, clock);

        var (_, options, _, _) = search.Run(_ => FakeRange(clock), _ => Rates(1e-3, 2e-3), TimeSpan.FromHours(1));

        Assert.Equal(1e-3, options.LearningRate);
    }

    [Fact]
    public void Fit_ImageTimeBudget_SearchesOnAHeldOutFifthAndKeepsTheChosenRun()
    {
        // The search's logic is tested above with fake runs; this checks the estimator's wiring on real images, with a
        // budget that leaves room for a few runs only: a held-out fifth validates, the runs are recorded, and the model
        // returned is the chosen run's.
        var ml = new MLContext(1);
        var data = TestData.Load(ml, TestData.Fashion("train", 10, ["Bag", "Sandal", "Trouser"]));
        var estimator = ml.MulticlassClassification.Trainers.FineTuneImageClassifier(new FineTuneImageClassifier.Options
        {
            LabelColumnName = "Label", ImageColumnName = "Image", ImageSize = 32, BatchSize = 8, Epochs = 2,
            TimeBudget = TimeSpan.FromSeconds(10),
        });

        using var model = estimator.Fit(data);

        var search = Assert.IsType<RecipeSearchResult>(model.RecipeSearch);
        Assert.NotNull(search.LearningRateRange);
        Assert.Contains(search.Chosen, search.Trials);
        Assert.All(model.History, h => Assert.NotNull(h.ValidationAccuracy));
        Assert.Equal(search.Chosen.Epochs, model.History.Count);
        Assert.Equal(search.Chosen.Score, model.History.Max(h => h.ValidationAccuracy!.Value), 6);
        Assert.Equal(30, ml.MulticlassClassification.Evaluate(model.Transform(data)).ConfusionMatrix.Counts.Sum(r => r.Sum()));
    }

    [Fact]
    public void Options_TimeBudgetWithResume_ThrowsNamingTheOption()
    {
        var e = Assert.Throws<ArgumentException>(() => new MLContext(1).MulticlassClassification.Trainers.LoraTextClassifier(
            new LoraTextClassifier.Options { TimeBudget = TimeSpan.FromMinutes(1), ResumeFromCheckpoint = "somewhere" }));
        Assert.Equal(nameof(FineTuningOptions.TimeBudget), e.ParamName);
    }
}
