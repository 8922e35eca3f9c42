using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Tests.Modeling.Lora;
using MLNet.FineTuning.Text;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Text;

public class TextWeightInterpolationTests
{
    [Fact]
    public void Interpolate_Lora_ScalesEachAdapterChangeByAlpha()
    {
        using var scope = NewDisposeScope();   // holds every temporary (detach, mul, eq, all) until the test ends; nothing outlives it
        // Weight interpolation of a LoRA model blends only B (which starts at zero), so every adapter's change
        // s·B·A becomes exactly α times the fine-tuned one, and α = 0 is the pretrained encoder.
        using var encoder = LoraTestKit.Encoder(seed: 3);
        using var model = new TextClassifier(encoder, TextPooling.Mean, new ClassifierHead(32, 2, 0));
        var lora = LoraInjector.Apply(encoder, new LoraConfig());
        var tunable = new TextFineTunable(model, lora);
        using var start = StartingWeights.Capture(tunable);
        LoraTestKit.Randomise(lora, LoraInjector.DefaultAdapterName, seed: 4);   // "fine-tuned" A and B
        var tuned = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var modules = lora.ModulesWith(LoraInjector.DefaultAdapterName).ToArray();

        Assert.Equal(modules.Length, tunable.InterpolatedState.Count);
        Assert.All(tunable.InterpolatedState, n => Assert.Contains(".lora_B.", n));
        foreach (double alpha in new[] { 0, 0.4, 1 })
        {
            start.Interpolate(tunable, tuned, alpha);
            foreach (var (name, m) in modules)
            {
                var b = m.LoraB(LoraInjector.DefaultAdapterName).weight!;
                var a = m.LoraA(LoraInjector.DefaultAdapterName).weight!;
                Assert.True(allclose(b, tuned.Single(kv => kv.Key.EndsWith(name + ".lora_B.default.weight")).Value.mul(alpha), atol: 1e-7), $"{name} B at α {alpha}");
                Assert.True(a.eq(tuned.Single(kv => kv.Key.EndsWith(name + ".lora_A.default.weight")).Value).all().item<bool>(), $"{name} A is kept");
            }
        }
        foreach (var t in tuned.Values) t.Dispose();
    }
}
