using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Cli.Runs;

/// <summary>One run of the automatic recipe as finetune.json keeps it: its settings beyond the options given, epochs,
/// best validation figure (accuracy, or −loss for a task that watches the loss; none for the final run on all the rows)
/// and seconds.</summary>
internal sealed record TrialRecord(string Recipe, int Round, int Epochs, double? Validation, double Seconds);

/// <summary>
/// What <c>--time-budget</c>'s automatic recipe did (<see cref="RecipeSearchResult"/>): the range test's suggestion, every
/// trial in order and the one whose model was kept, so that a run's record says why its model has the settings it has
/// (Model Builder lists the trials it explored the same way).
/// </summary>
internal sealed record SearchRecord(double Seconds, bool CutShortByBudget, double? SuggestedLearningRate, bool? RangeLossFellClearly,
                                    TrialRecord Kept, IReadOnlyList<TrialRecord> Trials)
{
    public static SearchRecord? Of(RecipeSearchResult? search) => search is null ? null : new(
        Math.Round(search.Elapsed.TotalSeconds, 1), search.CutShortByBudget, search.LearningRateRange?.SuggestedLearningRate,
        search.LearningRateRange?.LossFellClearly, Trial(search.Chosen), [.. search.Trials.Select(Trial)]);

    static TrialRecord Trial(RecipeTrial t) =>
        new(t.Recipe, t.Rung, t.Epochs, double.IsNaN(t.Score) ? null : t.Score, Math.Round(t.Seconds, 1));
}
