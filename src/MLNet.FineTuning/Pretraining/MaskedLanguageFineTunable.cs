using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretraining;

/// <summary>
/// BERT with its masked-language-model head as the training loop sees it: the "backbone" group is the LoRA adapters
/// (or every encoder weight with full fine-tuning), the "head" group the prediction head's transform and decoder bias.
/// The decoder's weight is the word embedding table: frozen with LoRA, trained with the encoder otherwise.
/// </summary>
internal sealed class MaskedLanguageFineTunable : IFineTunable
{
    private readonly BertMaskedLanguageModel model;
    // Names, not Parameter objects: moving the module to another device or dtype replaces its Parameters.
    private readonly HashSet<string>? adapterNames;

    public MaskedLanguageFineTunable(BertMaskedLanguageModel model, LoraInjector? lora)
    {
        this.model = model;
        if (lora != null)
        {
            lora.MarkOnlyActiveAdapterTrainable();
            adapterNames = lora.TrainableParameters().Select(p => p.Name).ToHashSet();
        }
    }

    public nn.Module Module => model;
    public IReadOnlyList<(string Name, Parameter Parameter)> BackboneParameters =>
        model.Encoder.named_parameters().Where(p => adapterNames == null || adapterNames.Contains(p.name))
             .Select(p => ("bert." + p.name, p.parameter)).ToArray();
    public IReadOnlyList<(string Name, Parameter Parameter)> HeadParameters =>
        model.Head.named_parameters().Select(p => ("head." + p.name, p.parameter)).ToArray();

    // Weight interpolation is not offered for pretraining; the contract asks what it would blend: the encoder's change.
    public IReadOnlyList<string> InterpolatedState =>
        BackboneParameters.Select(p => p.Name).Where(n => adapterNames == null || n.Contains(".lora_B.")).ToArray();

    public int LayerCount => model.Encoder.LayerGroupCount;
    public int LayerOf(string backboneParameterName) => model.Encoder.LayerGroupOf(backboneParameterName["bert.".Length..]);

    public void SetTrainingMode(bool backboneFrozen)
    {
        model.train();
        foreach (var (_, p) in BackboneParameters) p.requires_grad = !backboneFrozen;
    }

    /// <summary>input_ids, attention_mask, token_type_ids, labels → logits of the labelled positions [m, vocab].</summary>
    public Tensor Forward(Tensor[] inputs) => model.forward(inputs[0], inputs[1], inputs[2], inputs[3]);
}
