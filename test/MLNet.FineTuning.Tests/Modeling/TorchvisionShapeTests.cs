using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>
/// Every catalog architecture's state_dict keys and shapes against torchvision's: shapes.json (written by
/// eng/parity/torchvision_fixtures.py) holds their count and hash, so a wrong block count, channel rounding or width in
/// any size is caught without its weights. The networks are built on the meta device, which allocates and draws nothing:
/// initialising ViT-L's 300M weights on the CPU took 6 s here.
/// </summary>
[Collection(MetaDeviceDefault.Name)]
public class TorchvisionShapeTests
{
    [Theory]
    [InlineData("efficientnet_b0")]
    [InlineData("efficientnet_b1")]
    [InlineData("efficientnet_b2")]
    [InlineData("efficientnet_b3")]
    [InlineData("efficientnet_b4")]
    [InlineData("efficientnet_b5")]
    [InlineData("efficientnet_b6")]
    [InlineData("efficientnet_b7")]
    [InlineData("resnet18")]
    [InlineData("resnet34")]
    [InlineData("resnet50")]
    [InlineData("vit_b_16")]
    [InlineData("vit_b_32")]
    [InlineData("vit_l_16")]
    [InlineData("vit_l_32")]
    public void StateDict_CatalogArchitecture_HasTorchvisionsKeysAndShapes(string name)
    {
        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(TorchvisionParityTests.Committed, "shapes.json")))!["models"]![name]!;
        using var model = OnMetaDevice(() => PretrainedCatalog.GetImageBackbone(name).CreateRandom());

        var lines = model.state_dict().Select(kv => $"{kv.Key}:{string.Join(",", kv.Value.shape)}").Order(StringComparer.Ordinal).ToArray();
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", lines))));

        Assert.Equal((int)manifest["keys"]!, lines.Length);
        Assert.Equal((string)manifest["sha256"]!, hash);
    }

    private static T OnMetaDevice<T>(Func<T> create)
    {
        var previous = get_default_device();
        set_default_device(META);
        try
        {
            return create();
        }
        finally
        {
            set_default_device(previous);
        }
    }
}

/// <summary>Tests that switch TorchSharp's default device run alone: it is one setting for the whole process, so a test on
/// another thread would build its tensors on the meta device too.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MetaDeviceDefault
{
    public const string Name = "TorchSharp's default device changed, alone";
}
