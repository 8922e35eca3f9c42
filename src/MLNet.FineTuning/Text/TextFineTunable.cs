using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Text;

/// <summary>
/// A text classifier as the training loop sees it. With LoRA the "backbone" group is the adapters (the base
/// encoder stays frozen: PEFT's rule, decided in <see cref="LoraInjector.MarkOnlyActiveAdapterTrainable"/>);
/// with full fine-tuning it is every encoder parameter.
/// </summary>
internal sealed class TextFineTunable : IFineTunable
{
    private readonly TextClassifier model;

    public TextFineTunable(TextClassifier model, LoraInjector? lora)
    {
        this.model = model;
        if (lora != null)
        {
            lora.MarkOnlyActiveAdapterTrainable();
            adapterNames = lora.TrainableParameters().Select(p => p.Name).ToHashSet();
        }
    }

    // Names, not Parameter objects: moving the module to another device or dtype replaces its Parameters.
    private readonly HashSet<string>? adapterNames;

    public nn.Module Module => model;
    public IReadOnlyList<(string Name, Parameter Parameter)> BackboneParameters =>
        model.Encoder.named_parameters().Where(p => adapterNames == null || adapterNames.Contains(p.name))
             .Select(p => ("encoder." + p.name, p.parameter)).ToArray();
    public IReadOnlyList<(string Name, Parameter Parameter)> HeadParameters =>
        model.Head.named_parameters().Select(p => ("head." + p.name, p.parameter)).ToArray();

    // With LoRA, the B matrices only: the adapter's change B·A then scales by exactly α (blending A as well would not be
    // linear in α); with full fine-tuning, every encoder entry.
    public IReadOnlyList<string> InterpolatedState =>
        BackboneParameters.Select(p => p.Name).Where(n => adapterNames == null || n.Contains(".lora_B.")).ToArray();

    // The embeddings (0), each transformer layer (encoder.encoder.layer.N.* is N + 1) and the pooler on top.
    public int LayerCount => model.Encoder.Config.NumHiddenLayers + 2;
    public int LayerOf(string backboneParameterName)
    {
        const string layer = "encoder.encoder.layer.";
        if (backboneParameterName.StartsWith(layer, StringComparison.Ordinal))
            return int.Parse(backboneParameterName.AsSpan(layer.Length, backboneParameterName.IndexOf('.', layer.Length) - layer.Length)) + 1;
        return backboneParameterName.StartsWith("encoder.pooler.", StringComparison.Ordinal) ? LayerCount - 1 : 0;
    }

    public void SetTrainingMode(bool backboneFrozen)
    {
        model.train();
        foreach (var (_, p) in BackboneParameters) p.requires_grad = !backboneFrozen;
    }

    public Tensor Forward(Tensor[] inputs) => model.forward(inputs[0], inputs[1], inputs[2]);
}
