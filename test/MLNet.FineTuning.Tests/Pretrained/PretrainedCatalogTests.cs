using MLNet.FineTuning.Pretrained;

namespace MLNet.FineTuning.Tests.Pretrained;

public class PretrainedCatalogTests
{
    [Fact]
    public void GetImageBackbone_UnknownName_ThrowsListingKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => PretrainedCatalog.GetImageBackbone("nope"));

        Assert.Contains("'nope'", e.Message);
        foreach (var name in PretrainedCatalog.ImageBackboneNames) Assert.Contains(name, e.Message);
        Assert.Contains(PretrainedCatalog.ResNet18MlNet, PretrainedCatalog.ImageBackboneNames);
    }

    [Fact]
    public void GetImageBackbone_DifferentCase_FindsIt()
    {
        Assert.Equal("resnet50", PretrainedCatalog.GetImageBackbone("ResNet50").Name);
    }

    [Fact]
    public void CreatePretrained_Default_DiffersFromRandom()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var backbone = PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet);
        using var random = backbone.CreateRandom();
        using var pretrained = backbone.CreatePretrained();

        var r = random.state_dict();
        var p = pretrained.state_dict();
        Assert.Equal(r.Keys.Order(), p.Keys.Order());
        Assert.False(r["conv1.weight"].allclose(p["conv1.weight"]));
        Assert.False(r["layer4.2.conv2.weight"].allclose(p["layer4.2.conv2.weight"]));
        // A fresh BatchNorm has running mean 0 and variance 1; trained statistics are anything but.
        Assert.NotEqual(0f, p["bn1.running_mean"].abs().sum().item<float>());
        Assert.False(p["layer4.2.bn2.running_var"].allclose(r["layer4.2.bn2.running_var"]));
    }

    [Fact]
    public void CreatePretrained_TorchvisionWithoutPath_ThrowsAskingForWeightsPath()
    {
        var e = Assert.Throws<ArgumentException>(() => PretrainedCatalog.GetImageBackbone("resnet18").CreatePretrained());

        Assert.Contains("WeightsPath", e.Message);
    }

    [Fact]
    public void GetTextEncoder_UnknownName_ThrowsListingKnownNames()
    {
        var e = Assert.Throws<ArgumentException>(() => PretrainedCatalog.GetTextEncoder("gpt2"));

        Assert.Contains("'gpt2'", e.Message);
        Assert.Contains(PretrainedCatalog.MiniLmL6, e.Message);
        Assert.Contains(PretrainedCatalog.BertFolder, e.Message);
        Assert.Equal(PretrainedCatalog.MiniLmL6, PretrainedCatalog.GetTextEncoder("MiniLM-L6").Name);
    }

    [Fact]
    public void CreatePretrained_BertFolderWithoutPath_ThrowsAskingForFolder()
    {
        var e = Assert.Throws<ArgumentException>(() => PretrainedCatalog.GetTextEncoder(PretrainedCatalog.BertFolder).CreatePretrained());

        Assert.Contains("config.json", e.Message);
    }

    [Fact]
    public void CreatePretrained_MiniLmWithPath_ThrowsPointingToBertFolder()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            PretrainedCatalog.GetTextEncoder(PretrainedCatalog.MiniLmL6).CreatePretrained("/some/folder"));

        Assert.Contains(PretrainedCatalog.BertFolder, e.Message);
    }
}
