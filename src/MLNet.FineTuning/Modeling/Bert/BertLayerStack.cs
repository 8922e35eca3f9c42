using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling.Bert;

/// <summary>The layers in order, under <c>layer.N</c> (Hugging Face's inner <c>BertEncoder</c>, the <c>encoder</c> of <c>BertModel</c>).</summary>
internal sealed class BertLayerStack : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;

    public BertLayerStack(BertConfig config) : base(nameof(BertLayerStack))
    {
        layer = ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        RegisterComponents();
    }

    /// <summary>hidden [b,s,h], additive mask [b,1,1,s] → last hidden state [b,s,h].</summary>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var scope = NewDisposeScope();
        foreach (var l in layer) hidden = l.forward(hidden, additiveMask);
        return hidden.MoveToOuterDisposeScope();
    }
}
