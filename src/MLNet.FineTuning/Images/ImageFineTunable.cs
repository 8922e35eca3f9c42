using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Images;

/// <summary>A backbone + head image classifier as the training loop sees it; normalisation happens here,
/// on the device, so batches travel as compact 0..255 pixels. With <c>channelsLast</c> the normalised batch is laid out
/// channels-last, as the kernels are (<see cref="ChannelsLast"/>).</summary>
internal sealed class ImageFineTunable : IFineTunable
{
    private readonly Classifier model;
    private readonly ImagePreprocessing preprocessing;
    private readonly bool freezeBatchNorm, channelsLast;
    private bool backboneFrozen;

    public ImageFineTunable(Classifier model, ImagePreprocessing preprocessing, bool freezeBatchNorm, bool channelsLast = false)
    {
        this.model = model;
        this.preprocessing = preprocessing;
        this.freezeBatchNorm = freezeBatchNorm;
        this.channelsLast = channelsLast;
    }

    public nn.Module Module => model;
    // Read from the module on every access: moving it to another device or dtype replaces its Parameter objects.
    public IReadOnlyList<(string Name, Parameter Parameter)> BackboneParameters =>
        model.Backbone.named_parameters().Select(p => ("backbone." + p.name, p.parameter)).ToArray();
    public IReadOnlyList<(string Name, Parameter Parameter)> HeadParameters =>
        model.Head.named_parameters().Select(p => ("head." + p.name, p.parameter)).ToArray();

    // The backbone's parameters and its BatchNorm statistics, so that α = 0 gives the pretrained features exactly.
    public IReadOnlyList<string> InterpolatedState =>
        model.Backbone.state_dict().Keys.Select(k => "backbone." + k).ToArray();

    // The backbone's own groups (BackboneParameters' names carry the "backbone." prefix).
    public int LayerCount => model.Backbone.LayerCount;
    public int LayerOf(string backboneParameterName) => model.Backbone.LayerOf(backboneParameterName["backbone.".Length..]);

    public bool DecaysWeight(string parameterName) =>
        !parameterName.StartsWith("backbone.", StringComparison.Ordinal) || model.Backbone.DecaysWeight(parameterName["backbone.".Length..]);

    public void SetTrainingMode(bool backboneFrozen)
    {
        this.backboneFrozen = backboneFrozen;
        model.train();
        foreach (var (_, p) in BackboneParameters) p.requires_grad = !backboneFrozen;
        // A frozen backbone keeps its statistics too; small batches make BatchNorm statistics noisy, so the
        // user can keep them at their pretrained values for the whole run.
        if (backboneFrozen || freezeBatchNorm)
            foreach (var m in model.Backbone.modules().OfType<BatchNorm2d>()) m.eval();
    }

    public Tensor Forward(Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        // Normalised in fp32, then cast to the network's compute type (bf16 under mixed precision).
        var x = preprocessing.Apply(inputs[0].to(float32)).to(model.Head.parameters().First().dtype);   // uint8 batches widen here
        if (channelsLast) x = ChannelsLast.Of(x);
        Tensor features;
        if (backboneFrozen && model.training)
            using (no_grad()) features = model.Backbone.forward(x);   // no graph through a frozen backbone
        else
            features = model.Backbone.forward(x);
        return model.Head.forward(features).MoveToOuterDisposeScope();
    }
}
