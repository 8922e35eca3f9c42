using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Text;

namespace MLNet.FineTuning.Tests.Text;

public class TextRecipeCandidatesTests
{
    [Fact]
    public void For_DefaultOptions_TriesTheSuggestedRateBesideTheDefaultsFirst()
    {
        var candidates = TextRecipeCandidates.For(new LoraTextClassifier.Options(), suggestedRate: 2.77e-3);

        Assert.Equal(["lr=0.01, targets=query+key+value+output.dense+intermediate.dense", "lr=0.0028, targets=query+key+value+output.dense+intermediate.dense"],
                     candidates.Select(c => c.Name));
        var options = new LoraTextClassifier.Options { Rank = 4 };
        candidates[1].Apply(options);
        Assert.Equal((2.8e-3, LoraTargetModules.AllLinear, 4), (options.LearningRate, options.TargetModules, options.Rank));
    }

    [Fact]
    public void For_DefaultOptionsWithoutASuggestion_AreTheOnlyCandidate()
    {
        var candidates = TextRecipeCandidates.For(new LoraTextClassifier.Options(), suggestedRate: null);

        Assert.Equal(["lr=0.01, targets=query+key+value+output.dense+intermediate.dense"], candidates.Select(c => c.Name));
    }

    [Fact]
    public void For_OptionsTargetingQueryAndValue_TryEveryLinearLayer()
    {
        var given = new LoraTextClassifier.Options { TargetModules = LoraTargetModules.Bert };

        var candidates = TextRecipeCandidates.For(given, suggestedRate: null);

        Assert.Equal([LoraTargetModules.Bert, LoraTargetModules.AllLinear], candidates.Select(c =>
        {
            var o = new LoraTextClassifier.Options();
            c.Apply(o);
            return o.TargetModules;
        }));
    }
}
