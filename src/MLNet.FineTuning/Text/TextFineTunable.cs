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

    // The encoder's layer groups (embeddings, each layer, pooler); the head's parameters are not backbone ones.
    public int LayerCount => model.Encoder.LayerGroupCount;
    public int LayerOf(string backboneParameterName) => model.Encoder.LayerGroupOf(backboneParameterName["encoder.".Length..]);

    public void SetTrainingMode(bool backboneFrozen)
    {
        model.train();
        foreach (var (_, p) in BackboneParameters) p.requires_grad = !backboneFrozen;
    }

    public Tensor Forward(Tensor[] inputs) => model.forward(inputs[0], inputs[1], inputs[2]);
}
