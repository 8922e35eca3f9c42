using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

// The loop's optimizer: AdamW parameter groups by rate and decay.
internal sealed partial class TrainingLoop
{
    private (optim.Optimizer, List<(optim.ILearningRateController Group, double BaseRate)>) CreateOptimizer(IFineTunable model, MixedPrecision? mixed)
    {
        // Decoupled weight decay only on weight matrices and kernels: decaying biases and normalisation
        // scales hurts fine-tuning (the usual no_decay rule of BERT/timm fine-tuning scripts).
        // The model names further exemptions (a Vision Transformer's class token and position table, as timm's and
        // torchvision's recipes exempt them).
        var exempt = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        // Under bf16 the optimizer owns the fp32 masters, not the module's bf16 parameters.
        Parameter Owned((string Name, Parameter Parameter) p)
        {
            var owned = mixed?.MasterOf(p.Parameter) ?? p.Parameter;
            if (!model.DecaysWeight(p.Name)) exempt.Add(owned);
            return owned;
        }
        bool Decays(Parameter p) => p.dim() > 1 && !exempt.Contains(p);
        var head = model.HeadParameters.Select(Owned).ToArray();
        var backbone = model.BackboneParameters.Select(Owned).ToArray();
        // L2-SP replaces the backbone's decay toward zero by its own toward the pretrained weights.
        double backboneDecay = options.PretrainedWeightDecay > 0 ? 0 : options.WeightDecay;
        // With layer-wise decay, one pair of groups per backbone layer group, each at its LayerFactor.
        var layers = model.BackboneParameters.Select((p, i) => (Factor: LayerFactor(model, p.Name), Tensor: backbone[i]))
            .GroupBy(x => x.Factor, x => x.Tensor).OrderByDescending(g => g.Key).Select(g => (Params: g.ToArray(), g.Key));
        var specs = new List<(IEnumerable<Parameter> Params, double Rate, double Decay)>
        {
            (head.Where(Decays), options.LearningRate, options.WeightDecay),
            (head.Where(p => !Decays(p)), options.LearningRate, 0),
        };
        foreach (var (parameters, factor) in layers)
        {
            double rate = options.LearningRate * options.BackboneLearningRateFactor * factor;
            specs.Add((parameters.Where(Decays), rate, backboneDecay));
            specs.Add((parameters.Where(p => !Decays(p)), rate, 0));
        }
        var groups = specs.Select(s => (Group: new AdamW.ParamGroup(s.Params.ToArray(), new AdamW.Options { LearningRate = s.Rate, weight_decay = s.Decay }), s.Rate))
                          .Where(g => g.Group.Parameters.Any()).ToList();
        var optimizer = new FlatAdamW(groups.Select(g => g.Group), options.LearningRate, options.WeightDecay);
        mixed?.MirrorBuffers(optimizer);
        long trainableCount = groups.Sum(g => g.Group.Parameters.Sum(p => p.numel()));
        Info($"trainable parameters: {trainableCount:N0} (head {model.HeadParameters.Sum(p => p.Parameter.numel()):N0}, backbone/adapters {model.BackboneParameters.Sum(p => p.Parameter.numel()):N0}) on {device}{(mixed != null ? ", bf16 mixed precision (fp32 master weights)" : "")}");
        return (optimizer, groups.Select(g => ((optim.ILearningRateController)g.Group, g.Rate)).ToList());
    }

    /// <summary>Layer-wise rate decay: the share of the backbone's rate that a parameter's layer group trains at,
    /// decay^(groups above it); 1 when off.</summary>
    private double LayerFactor(IFineTunable model, string backboneParameterName) =>
        options.LayerwiseLearningRateDecay == 1 ? 1 : Math.Pow(options.LayerwiseLearningRateDecay, model.LayerCount - 1 - model.LayerOf(backboneParameterName));
}
