using Microsoft.ML;
using MLNet.FineTuning.Data;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Data;

public class ImageBatchSourceTests
{
    private static readonly string[] EightClasses = ["Ankle_boot", "Bag", "Coat", "Dress", "Pullover", "Sandal", "Shirt", "Sneaker"];

    /// <summary>One image per class, so the labels of a batch spell out the row order.</summary>
    private static ImageDataset OneImagePerClass(MLContext ml) =>
        ImageDataset.Read(TestData.Load(ml, TestData.Fashion("train", 1, EightClasses)), "Image", "Label",
            cacheBudgetBytes: 1 << 20, skipUnreadable: false, "training", CancellationToken.None);

    private static long[] Order(ImageBatchSource source, int epoch) =>
        source.Batches(epoch, CancellationToken.None).SelectMany(b => { using (b) return b.Labels.data<long>().ToArray(); }).ToArray();

    [Fact]
    public void Batches_TrainingSeedAndEpoch_OrderIsTheSameInEveryProcess()
    {
        // The order is pinned: a seed derived with a per-process randomised hash (HashCode.Combine) gives
        // another order in every run, so seeded runs did not repeat and a resumed epoch replayed a different
        // shuffle than the one it was cut off in.
        var ml = new MLContext(1);
        var source = new ImageBatchSource(OneImagePerClass(ml), 32, 8, train: true, seed: 7, ImageAugmentationSettings.None);

        Assert.Equal(PinnedEpoch0Seed7, Order(source, 0));
        Assert.Equal(PinnedEpoch1Seed7, Order(source, 1));
    }

    private static readonly long[] PinnedEpoch0Seed7 = [0, 2, 3, 5, 7, 4, 1, 6];
    private static readonly long[] PinnedEpoch1Seed7 = [7, 2, 1, 3, 4, 5, 6, 0];

    [Fact]
    public void Batches_Evaluation_KeepsRowOrderAndEveryRow()
    {
        var ml = new MLContext(1);
        var data = OneImagePerClass(ml);
        var source = new ImageBatchSource(data, 32, 3, train: false, seed: 7, ImageAugmentationSettings.None);

        Assert.Equal(data.Labels.Select(l => (long)l[0]), Order(source, 0));
        Assert.Equal(Order(source, 0), Order(source, 5));
    }

    [Fact]
    public void Batches_TrainingLastBatchOfOne_IsDropped()
    {
        // A batch of one breaks BatchNorm in training mode; 8 rows in batches of 7 leave one row over.
        var ml = new MLContext(1);
        var source = new ImageBatchSource(OneImagePerClass(ml), 32, 7, train: true, seed: 7, ImageAugmentationSettings.None);

        var sizes = source.Batches(0, CancellationToken.None).Select(b => { using (b) return b.Count; }).ToArray();

        Assert.Equal([7], sizes);
    }

    [Fact]
    public void Batches_Training_PixelsAreRgb255OfTheRequestedSize()
    {
        var ml = new MLContext(1);
        var source = new ImageBatchSource(OneImagePerClass(ml), 32, 8, train: true, seed: 7, new ImageAugmentationSettings(0.35, true));

        using var batch = source.Batches(0, CancellationToken.None).First();
        var pixels = batch.Inputs[0];

        Assert.Equal([8L, 3, 32, 32], pixels.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Byte, pixels.dtype);   // bytes travel; the network widens them
        using var min = pixels.min();
        using var max = pixels.max();
        Assert.True(min.item<byte>() < 16);                               // Fashion-MNIST items are bright on black
        Assert.True(max.item<byte>() >= 128);
    }

    /// <summary>Every batch of an epoch as (its labels, its pixel bytes).</summary>
    private static List<(long[] Labels, byte[] Pixels)> Contents(ImageBatchSource source, int epoch) =>
        source.Batches(epoch, CancellationToken.None).Select(b =>
        {
            using (b)
            using (var pixels = b.Inputs[0].cpu())   // a new tensor (cpu() makes one even on the CPU), held while it is read
                return (b.Labels.data<long>().ToArray(), pixels.data<byte>().ToArray());
        }).ToList();

    private static PixelKeeping OnTheCpu(long budgetBytes, long chunkBytes = PixelCache.DefaultChunkBytes) => new(CPU, budgetBytes, null, chunkBytes);

    [Theory]
    [InlineData(true, 3, 1 << 20)]    // training without changes to the images: shuffled, last batch of 2
    [InlineData(true, 7, 1 << 20)]    // ... and a last batch of one, which training drops
    [InlineData(false, 3, 1 << 20)]   // evaluation: row order
    [InlineData(false, 3, 9216)]      // the 8 images made 3 at a time (3 × 32 × 32 × 3 bytes): chunks of 3, 3 and 2
    public void Batches_KeptPixels_GiveTheResampledBatchesExactly(bool train, int batchSize, long chunkBytes)
    {
        // Keeping the pixels must change where a batch comes from, never what it holds: the same bytes, rows and
        // order, epoch after epoch, as resampling the decoded images again.
        var ml = new MLContext(1);
        var data = OneImagePerClass(ml);
        using var kept = new ImageBatchSource(data, 32, batchSize, train, seed: 7, ImageAugmentationSettings.None, OnTheCpu(1 << 20, chunkBytes));
        using var resampled = new ImageBatchSource(data, 32, batchSize, train, seed: 7, ImageAugmentationSettings.None);

        for (int epoch = 0; epoch < 3; epoch++)
        {
            var expected = Contents(resampled, epoch);
            var actual = Contents(kept, epoch);
            Assert.True(kept.KeepsPixels);
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
            {
                Assert.Equal(expected[i].Labels, actual[i].Labels);
                Assert.Equal(expected[i].Pixels, actual[i].Pixels);
            }
        }
    }

    [Fact]
    public void Batches_KeptPixelsOverTheBudget_ResampleAsBefore()
    {
        // 8 images × 3 × 32 × 32 bytes = 24 KiB: a budget of 20 KiB keeps nothing, and the batches are still whole.
        var ml = new MLContext(1);
        var data = OneImagePerClass(ml);
        using var source = new ImageBatchSource(data, 32, 4, train: false, seed: 7, ImageAugmentationSettings.None, OnTheCpu(20 << 10));
        using var resampled = new ImageBatchSource(data, 32, 4, train: false, seed: 7, ImageAugmentationSettings.None);

        var actual = Contents(source, 0);

        Assert.False(source.KeepsPixels);
        Assert.Equal(Contents(resampled, 0).SelectMany(b => b.Pixels), actual.SelectMany(b => b.Pixels));
    }

    [Fact]
    public void Batches_TrainingThatCropsOrFlips_KeepsNoPixels()
    {
        // A crop or a flip draws new pixels every epoch: kept pixels would silently turn the augmentation off.
        var ml = new MLContext(1);
        using var source = new ImageBatchSource(OneImagePerClass(ml), 32, 8, train: true, seed: 7, new ImageAugmentationSettings(1, true), OnTheCpu(1 << 20));

        var first = Contents(source, 0);

        Assert.False(source.KeepsPixels);
        Assert.NotEqual(first.SelectMany(b => b.Pixels), Contents(source, 1).SelectMany(b => b.Pixels));
    }

    [Fact]
    public void Dispose_KeptPixels_AreFreedAndTheSourceStillResamples()
    {
        var ml = new MLContext(1);
        var data = OneImagePerClass(ml);
        var source = new ImageBatchSource(data, 32, 8, train: false, seed: 7, ImageAugmentationSettings.None, OnTheCpu(1 << 20));
        var before = Contents(source, 0);
        Assert.True(source.KeepsPixels);

        source.Dispose();

        Assert.False(source.KeepsPixels);
        Assert.Equal(before.SelectMany(b => b.Pixels), Contents(source, 1).SelectMany(b => b.Pixels));
    }

    /// <summary>12 Bags and 2 Coats: a rare class among the training rows.</summary>
    private static ImageDataset TwelveBagsTwoCoats(MLContext ml, long cacheBudgetBytes) =>
        ImageDataset.Read(TestData.Load(ml, [.. TestData.Fashion("train", 12, "Bag"), .. TestData.Fashion("train", 2, "Coat")]), "Image", "Label",
            cacheBudgetBytes, skipUnreadable: false, "training", CancellationToken.None);

    [Theory]
    [InlineData(1 << 20, false)]   // decoded images kept in memory
    [InlineData(1 << 20, true)]    // pixels kept as tensors (no augmentation)
    [InlineData(0, false)]         // over the budget: streamed and decoded again every epoch
    public void Batches_BalancedClasses_EachEpochDrawsTheRareClassAboutAsOftenAsTheCommonOne(long budget, bool keepPixels)
    {
        var ml = new MLContext(1);
        var data = TwelveBagsTwoCoats(ml, budget);
        Assert.Equal(budget == 0, data.Images == null);
        using var balanced = new ImageBatchSource(data, 32, 2, train: true, seed: 7, ImageAugmentationSettings.None,
            keepPixels ? OnTheCpu(1 << 20) : null, balanceClasses: true);
        using var plain = new ImageBatchSource(data, 32, 2, train: true, seed: 7, ImageAugmentationSettings.None);

        var rare = Enumerable.Range(0, 20).Select(epoch => Order(balanced, epoch).Count(label => label == 1)).ToArray();

        Assert.Equal(keepPixels, balanced.KeepsPixels);
        Assert.InRange(rare.Average(), 6, 8);                                  // 7 of 14 draws on average (2 of 14 rows)
        Assert.All(Enumerable.Range(0, 3), epoch => Assert.Equal(2, Order(plain, epoch).Count(label => label == 1)));
    }

    [Theory]
    [InlineData(false)]   // LoadImages: decoded images, which ML.NET's ShuffleRows dropped ("Column 'Image' not found")
    [InlineData(true)]    // LoadRawImageBytes: encoded bytes
    public void Batches_TrainingOverTheCacheBudget_StreamsEveryRowOnceInAnotherOrderEachEpoch(bool encoded)
    {
        var ml = new MLContext(1);
        var rows = TestData.Fashion("train", 3, EightClasses);
        var data = ImageDataset.Read(encoded ? TestData.LoadBytes(ml, rows) : TestData.Load(ml, rows), "Image", "Label",
            cacheBudgetBytes: 0, skipUnreadable: false, "training", CancellationToken.None);
        Assert.Null(data.Images);
        using var source = new ImageBatchSource(data, 32, 4, train: true, seed: 7, ImageAugmentationSettings.None);

        var first = Contents(source, 0);
        var second = Contents(source, 1);

        var labels = data.Labels.Select(l => (long)l[0]).Order();
        Assert.Equal(labels, first.SelectMany(b => b.Labels).Order());
        Assert.Equal(labels, second.SelectMany(b => b.Labels).Order());
        Assert.NotEqual(first.SelectMany(b => b.Pixels), second.SelectMany(b => b.Pixels));
        Assert.Equal(first.SelectMany(b => b.Pixels), Contents(source, 0).SelectMany(b => b.Pixels));   // an epoch replays
    }
}
