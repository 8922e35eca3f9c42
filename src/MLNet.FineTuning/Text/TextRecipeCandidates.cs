using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Text;

/// <summary>What the automatic recipe tries for every text task.</summary>
internal static class TextRecipeCandidates
{
    /// <summary>The learning rate (the options' and the range test's suggestion, when it has one) and, when the options
    /// put adapters on fewer layers, every linear layer: the suite's choice (docs/quality.md). The options as given come
    /// first, so that a tie keeps them. Query + value is not tried against every linear layer: it learns faster in the
    /// search's 1- and 2-epoch trials and ends lower after the options' epochs, so the trials chose it for the wrong
    /// reason (kept in 4 text classification searches of the suite, below the defaults on the test rows in all 4:
    /// docs/quality.md, "The automatic recipe's margin, and the text steps' pace").</summary>
    public static IReadOnlyList<RecipeCandidate<TOptions>> For<TOptions>(TOptions o, double? suggestedRate) where TOptions : TextFineTuningOptions
    {
        var rates = RecipeCandidates.Rates(o.LearningRate, suggestedRate);
        var targets = o.TargetModules.SequenceEqual(LoraTargetModules.AllLinear) ? [o.TargetModules] : new[] { o.TargetModules, LoraTargetModules.AllLinear };
        return (from lr in rates from t in targets
                select new RecipeCandidate<TOptions>($"lr={lr:G2}, targets={string.Join("+", t)}", x =>
                {
                    x.LearningRate = lr;
                    x.TargetModules = t;
                })).ToList();
    }
}
