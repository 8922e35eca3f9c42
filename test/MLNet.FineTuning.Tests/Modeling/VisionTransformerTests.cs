using System.Text.Json.Nodes;
using Microsoft.ML;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Modeling;

/// <summary>The ViT's own rules (image size, layer groups) and its training through the loop the image estimators use;
/// its agreement with torchvision is <see cref="TorchvisionParityTests"/>'s.</summary>
public class VisionTransformerTests(ITestOutputHelper output)
{
    [Fact]
    public void Constructor_ImageSizeNotAMultipleOfThePatch_ThrowsNamingTheOption()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new VisionTransformer(36, 8, 2, 2, 32, 64));

        Assert.Equal("ImageSize", e.ParamName);
        Assert.Contains("ImageSize must be a multiple of 8", e.Message);
        Assert.Contains("got 36", e.Message);
    }

    [Fact]
    public void Options_VitBackboneWithImageSizeNotAMultipleOf16_RefusedBeforeAnythingIsBuilt()
    {
        var options = new FineTuneImageClassifier.Options { Backbone = "vit_b_16", ImageSize = 100, UsePretrainedWeights = false };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new MLContext(1).MulticlassClassification.Trainers.FineTuneImageClassifier(options));

        Assert.Equal(nameof(options.ImageSize), e.ParamName);
        Assert.Contains("ImageSize must be a multiple of 16", e.Message);
        Assert.Contains("96 or 112", e.Message);
    }

    [Fact]
    public void Forward_ImageOfAnotherSize_ThrowsNamingTheBuiltSize()
    {
        using var model = TorchvisionParityTests.TinyVisionTransformer();
        using var image = zeros(1, 3, 40, 40);

        var e = Assert.Throws<ArgumentException>(() => model.forward(image));

        Assert.Contains("32×32", e.Message);
        Assert.Contains("ImageSize", e.Message);
    }

    [Fact]
    public void LayerOf_VitB16_PatchEmbeddingFourGroupsOfThreeBlocksFinalNorm()
    {
        using var model = new VisionTransformer(32, 16, 12, 12, 48, 96);   // ViT-B's depth, narrow: the names are what counts
        var groups = model.named_parameters().ToDictionary(p => p.name, p => model.LayerOf(p.name));

        Assert.Equal(6, model.LayerCount);
        Assert.Equal(0, groups["conv_proj.weight"]);
        Assert.Equal(0, groups["class_token"]);
        Assert.Equal(0, groups["encoder.pos_embedding"]);
        Assert.Equal(1, groups["encoder.layers.encoder_layer_2.mlp.3.bias"]);
        Assert.Equal(2, groups["encoder.layers.encoder_layer_3.ln_1.weight"]);
        Assert.Equal(4, groups["encoder.layers.encoder_layer_11.self_attention.in_proj_weight"]);
        Assert.Equal(5, groups["encoder.ln.weight"]);
        Assert.Equal(Enumerable.Range(0, model.LayerCount), groups.Values.Distinct().Order());
    }

    [Fact]
    public void Run_TinyVitThroughImageFineTunable_TrainingLossFallsWithLayerwiseDecayAndUnfreezing()
    {
        // What Fit does with a ViT backbone, on a network small enough for a test (the catalog's smallest ViT has 88M
        // parameters): the image fine-tunable with its BatchNorm freezing asked for (a ViT has none), layer-wise rate
        // decay over the ViT's groups, a head-only epoch and gradual unfreezing of the groups.
        using var scope = NewDisposeScope();
        manual_seed(3);
        var backbone = TorchvisionParityTests.TinyVisionTransformer();
        ImageWeightLoader.LoadTorchvision(backbone, TorchvisionParityTests.TinyVitWeights);
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, 2, dropoutRate: 0.1));
        var fineTunable = new ImageFineTunable(model, ImagePreprocessing.ImageNet, freezeBatchNorm: true);
        var options = new FineTuneImageClassifier.Options
        {
            Epochs = 6, BatchSize = 8, LearningRate = 3e-3, LayerwiseLearningRateDecay = 0.7, FreezeBackboneEpochs = 1,
            GradualUnfreezing = true, LogEveryNSteps = 1000,
        };
        var before = backbone.Encoder.PositionEmbedding.detach().clone();

        var result = new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" })
            .Run(fineTunable, new ColourImages(32, 32), validation: null);

        var losses = result.Epochs.Select(e => e.TrainLoss).ToArray();
        output.WriteLine($"train loss by epoch {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.Equal(options.Epochs, result.EpochsRun);
        Assert.True(losses[^1] < 0.5 * losses[0], $"train loss {losses[0]:F3} -> {losses[^1]:F3}");
        // Gradual unfreezing reached group 0 (the patch embedding and positions) by the last epoch.
        Assert.False(before.equal(backbone.Encoder.PositionEmbedding.detach()).all().item<bool>(), "the position table never trained");
    }

    [Fact]
    public void Run_TinyVit_TheClassTokenAndPositionsTakeNoWeightDecay()
    {
        // Weight decay 250 at rate 1e-3 shrinks every decayed tensor by a quarter per step; Adam's own step moves an
        // element by about the rate. Two steps: the patch projection keeps (3/4)² of its norm, the position table nearly all.
        using var scope = NewDisposeScope();
        manual_seed(3);
        var backbone = TorchvisionParityTests.TinyVisionTransformer();
        ImageWeightLoader.LoadTorchvision(backbone, TorchvisionParityTests.TinyVitWeights);
        using var model = new Classifier(backbone, new ClassifierHead(backbone.FeatureCount, 2, dropoutRate: 0));
        var fineTunable = new ImageFineTunable(model, ImagePreprocessing.ImageNet, freezeBatchNorm: true);
        Assert.False(fineTunable.DecaysWeight("backbone.class_token"));
        Assert.False(fineTunable.DecaysWeight("backbone.encoder.pos_embedding"));
        Assert.True(fineTunable.DecaysWeight("backbone.conv_proj.weight"));
        var options = new FineTuneImageClassifier.Options
        {
            Epochs = 1, BatchSize = 8, LearningRate = 1e-3, BackboneLearningRateFactor = 1, WeightDecay = 250, WarmupFraction = 0,
            Schedule = LearningRateSchedule.Constant, LogEveryNSteps = 1000,
        };
        double Norm(Tensor t) => t.detach().norm().item<float>();
        double positions = Norm(backbone.Encoder.PositionEmbedding), projection = Norm(backbone.ConvProj.weight!);

        new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(fineTunable, new ColourImages(16, 32), validation: null);

        double positionRatio = Norm(backbone.Encoder.PositionEmbedding) / positions, projectionRatio = Norm(backbone.ConvProj.weight!) / projection;
        output.WriteLine($"norm after / before: positions {positionRatio:F3}, patch projection {projectionRatio:F3}");
        Assert.True(projectionRatio < 0.7, $"patch projection {projectionRatio:F3}: weight decay did not apply");
        Assert.True(positionRatio > 0.85, $"positions {positionRatio:F3}: decayed like a weight");
    }

    /// <summary>Two classes of noisy 0..255 images: reddish and bluish, which every patch shows (a random ViT's class token
    /// mixes its patches, so a class told apart by where something is would need its attention trained first).</summary>
    private sealed class ColourImages(int rows, int size) : IBatchSource
    {
        public long RowCount => rows;

        public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
        {
            var generator = new TorchSharp.torch.Generator((ulong)(11 + epoch));
            for (int start = 0; start < rows; start += 8)
            {
                int n = Math.Min(8, rows - start);
                Batch batch;
                // The temporaries are held by this scope, whatever scope the consumer has open; the batch's own tensors
                // go on to the consumer's scope (or none), which disposes the batch.
                using (NewDisposeScope())
                {
                    var labels = arange(start, start + n, int64).remainder(2L);
                    // Channel 0 (red) at 0.6 for class 0, channel 2 (blue) for class 1, noise of up to 0.4 everywhere.
                    var colour = nn.functional.one_hot(labels.mul(2L), 3).to(float32).mul(0.6f).view(n, 3, 1, 1);
                    var noise = rand([n, 3, size, size], generator: generator).mul(0.4f);
                    batch = new Batch([noise.add(colour, KeptScalars.One).mul(255f).MoveToOuterDisposeScope()], labels.MoveToOuterDisposeScope());
                }
                yield return batch;
            }
        }
    }
}
