using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Images;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Tests.Training;

/// <summary>
/// A batch that does not fit in memory stops the run with an error that names the device, the batch and a smaller
/// batch size. The allocation failure is libtorch's own: one batch is a broadcast view of a single 224 px image over
/// 2³⁰ rows (no memory), whose conversion to floats asks for 646 TB, more than a 64-bit process can address, so the
/// CPU allocator refuses it at once on any machine (the CUDA allocator's "out of memory" takes the same path).
/// </summary>
public class OutOfMemoryTests
{
    private const int HugeRows = 1 << 30;

    /// <summary>Small 224 px images of two classes; the <paramref name="huge"/>-th batch served (from 1, over all epochs)
    /// is the broadcast one.</summary>
    private sealed class ImagesWithOneHugeBatch(int rows, int batchSize, int huge) : IBatchSource
    {
        private int served;

        public long RowCount => rows;

        public IEnumerable<Batch> Batches(int epoch, CancellationToken cancellation)
        {
            for (int start = 0; start < rows; start += batchSize)
            {
                int n = Math.Min(batchSize, rows - start);
                Batch batch;
                // The scope holds the chains' temporaries while libtorch uses them; it ends before the yield (a scope is
                // the thread's, and the consumer runs between yields), and the batch's tensors leave it for the consumer.
                using (NewDisposeScope())
                {
                    var labels = arange(start, start + n, dtype: int64).remainder(2);
                    var images = labels.to(uint8).mul(200).reshape(n, 1, 1, 1).expand(n, 3, 224, 224).contiguous();
                    batch = ++served != huge
                        ? new Batch([images.DetachFromDisposeScope()], labels.DetachFromDisposeScope())
                        : new Batch([images[..1].expand(HugeRows, 3, 224, 224).DetachFromDisposeScope()], zeros(1, dtype: int64).expand(HugeRows).DetachFromDisposeScope());
                }
                yield return batch;
            }
        }
    }

    private static ImageFineTunable Model() =>
        new(new Classifier(new ResNet(bottleneck: false, [1, 1, 1, 1]), new ClassifierHead(512, 2, 0)), ImagePreprocessing.ImageNet, false);

    private static Dictionary<string, float[]> Weights(ImageFineTunable model) => TinyFineTunable.WeightsOf(model.Module);

    [Fact]
    public void Run_BatchTooLargeForMemory_ThrowsNamingDeviceBatchAndSmallerBatchSize_WeightsOfTheStepBefore()
    {
        var model = Model();
        Dictionary<string, float[]>? afterStep2 = null;
        var options = new FineTuneImageClassifier.Options
        {
            Epochs = 2, BatchSize = 4, LogEveryNSteps = 1,
            Progress = new ProgressLog(r => { if (r.Step == 2 && !r.IsEpochEnd) afterStep2 = Weights(model); }),
        };
        // 8 rows, batches of 4: the third batch served is the first of epoch 2, step 3.
        var train = new ImagesWithOneHugeBatch(8, 4, huge: 3);

        var e = Assert.Throws<TrainingOutOfMemoryException>(() =>
            new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(model, train, null));

        Assert.IsAssignableFrom<ExternalException>(e.InnerException);
        Assert.Equal("cpu", e.Device);
        Assert.Equal(HugeRows, e.Rows);
        Assert.Equal(4, e.BatchSize);
        Assert.Equal(2, e.SuggestedBatchSize);
        Assert.Contains("Out of memory on cpu in a training step (step 3, epoch 2 of 2)", e.Message);
        Assert.Contains($"inputs [{HugeRows}, 3, 224, 224]", e.Message);
        Assert.Contains("Set BatchSize = 2 and GradientAccumulationSteps = 2", e.Message);
        Assert.Equal(afterStep2, Weights(model));
        model.Module.Dispose();
    }

    [Fact]
    public void Run_ValidationBatchTooLarge_ThrowsNamingValidation()
    {
        var model = Model();
        var options = new FineTuneImageClassifier.Options { Epochs = 1, BatchSize = 4, GradientAccumulationSteps = 3 };

        var e = Assert.Throws<TrainingOutOfMemoryException>(() =>
            new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" })
                .Run(model, new ImagesWithOneHugeBatch(4, 4, huge: 0), new ImagesWithOneHugeBatch(4, 4, huge: 1)));

        Assert.Contains("Out of memory on cpu in validation with a batch of", e.Message);
        Assert.Contains("Set BatchSize = 2 and GradientAccumulationSteps = 6: an optimizer step then still averages 12 rows", e.Message);
        model.Module.Dispose();
    }

    [Fact]
    public void Run_OutOfMemoryWhilePixelsAreKept_NamesTheirSizeAndTheBudgetThatGivesThemBack()
    {
        // Four grey 224 px images kept on the CPU (588 KiB) while a batch does not fit. Other tests may keep pixels at the
        // same time, so the figure is checked as at least this cache's.
        var images = Enumerable.Range(0, 4).Select(_ => new MLNet.FineTuning.Data.DecodedImage(224, 224, new byte[224 * 224 * 3])).ToArray();
        using var cache = MLNet.FineTuning.Data.PixelCache.TryCreate(images, 224, CPU, long.MaxValue, null, "training");
        Assert.NotNull(cache);
        Assert.True(KeptDeviceMemory.Bytes("cpu") >= 4 * 3 * 224 * 224);
        var model = Model();
        var options = new FineTuneImageClassifier.Options { Epochs = 1, BatchSize = 4 };

        var e = Assert.Throws<TrainingOutOfMemoryException>(() =>
            new TrainingLoop(options, CPU, null, () => new JsonObject { ["kind"] = "test" }).Run(model, new ImagesWithOneHugeBatch(4, 4, huge: 1), null));

        Assert.Contains("Pixels of image rows kept on cpu across epochs take ", e.Message);
        Assert.Contains("an ImageCacheMegabytes below that resamples them every epoch instead", e.Message);
        model.Module.Dispose();
    }

    [Fact]
    public void IsOutOfMemory_OtherLibtorchErrors_AreLeftAsTheyAre()
    {
        using var scope = NewDisposeScope();   // holds ones(2, 3) while view reads it
        // (A shape error raised inside matmul would end the process: TorchSharp 0.107 does not catch libtorch's errors there.)
        var shapeError = Assert.ThrowsAny<ExternalException>(() => ones(2, 3).view(7));
        Assert.False(TrainingOutOfMemoryException.IsOutOfMemory(shapeError));
        Assert.False(TrainingOutOfMemoryException.IsOutOfMemory(new InvalidOperationException("out of memory")));
    }
}
