using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Text;

/// <summary>What the automatic recipe tries for every text task.</summary>
internal static class TextRecipeCandidates
{
    /// <summary>The learning rate (the options' and the range test's suggestion, when it has one) and which layers get adapters (the
    /// options' and every linear layer, or query + value when the options already target every linear layer): what the
    /// quality suite showed matters for LoRA (docs/quality.md). The options as given come first, so that a tie keeps
    /// them.</summary>
    public static IReadOnlyList<RecipeCandidate<TOptions>> For<TOptions>(TOptions o, double? suggestedRate) where TOptions : TextFineTuningOptions
    {
        var rates = RecipeCandidates.Rates(o.LearningRate, suggestedRate);
        var targets = new[] { o.TargetModules, o.TargetModules.SequenceEqual(LoraTargetModules.AllLinear) ? LoraTargetModules.Bert : LoraTargetModules.AllLinear };
        return (from lr in rates from t in targets
                select new RecipeCandidate<TOptions>($"lr={lr:G2}, targets={string.Join("+", t)}", x =>
                {
                    x.LearningRate = lr;
                    x.TargetModules = t;
                })).ToList();
    }
}
