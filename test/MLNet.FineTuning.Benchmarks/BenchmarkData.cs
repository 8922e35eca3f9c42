using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Pretrained;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// The benchmark's images in every form a variant needs: the IDataView a user hands to Fit (key label,
/// lazily loaded images), and the same images decoded once and centre-cropped to the network size, as
/// planar 0..255 RGB arrays (what the plain loop and the inference runs feed).
/// </summary>
internal sealed class BenchmarkData
{
    private BenchmarkData(IDataView view, string[] classNames, DecodedImage[] decoded, int[] labels, float[][] pixels, int imageSize, int distinct)
    {
        Distinct = distinct;
        View = view;
        ClassNames = classNames;
        Decoded = decoded;
        Labels = labels;
        Pixels = pixels;
        ImageSize = imageSize;
    }

    /// <summary>Columns Label (key) and Image (MLImage, decoded when a cursor reads it).</summary>
    public IDataView View { get; }
    public string[] ClassNames { get; }
    public DecodedImage[] Decoded { get; }
    /// <summary>0-based class of each image, in view order.</summary>
    public int[] Labels { get; }
    /// <summary>Each image centre-cropped to <see cref="ImageSize"/>: float [3,S,S] RGB 0..255.</summary>
    public float[][] Pixels { get; }
    public int ImageSize { get; }
    public int Count => Labels.Length;
    /// <summary>Different images among the <see cref="Count"/> (fewer when the rows cycle over the folder).</summary>
    public int Distinct { get; }

    /// <summary>Takes <paramref name="count"/> images round-robin over the classes (class order, then file order),
    /// so that every prefix is balanced. With <paramref name="cycle"/>, a count above the folder's images repeats that
    /// order from the start (the GPU mode's larger epochs); without it, such a count is an error. Without
    /// <paramref name="centreCrops"/>, <see cref="Pixels"/> stays empty (the data-path mode makes its own).</summary>
    public static BenchmarkData Load(MLContext ml, string root, int count, int imageSize, bool cycle = false, bool centreCrops = true)
    {
        var byClass = ImageFolder.List(root).GroupBy(r => r.Label).Select(g => g.ToArray()).ToArray();
        int available = byClass.Sum(g => g.Length);
        if (count > available && !cycle) throw new ArgumentException($"--images {count}: '{root}' has only {available} images.");
        int distinct = Math.Min(count, available);
        var rows = new List<ImageFolder.Row>(count);
        for (int i = 0; rows.Count < distinct; i++)
            foreach (var g in byClass)
                if (i < g.Length && rows.Count < distinct) rows.Add(g[i]);
        for (int i = distinct; i < count; i++) rows.Add(rows[i % distinct]);

        var raw = ml.Data.LoadFromEnumerable(rows);
        var view = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.LoadImages("Image", imageFolder: null, inputColumnName: nameof(ImageFolder.Row.ImagePath)))
            .Fit(raw).Transform(raw);
        var classNames = LabelColumn.ClassNames(view.Schema, "Label", LabelColumn.CheckKey(view.Schema, "Label"));
        var dataset = ImageDataset.Read(view, "Image", "Label", long.MaxValue, skipUnreadable: false, "benchmark", default);
        var decoded = dataset.Images!;
        if (!centreCrops) return new BenchmarkData(view, classNames, decoded, dataset.ClassIndices, [], imageSize, distinct);
        var pixels = new float[decoded.Length][];
        // A repeated row shares its first occurrence's pixels (at 224 px each image is 0.6 MB of floats).
        Parallel.For(0, distinct, i =>
        {
            pixels[i] = new float[3 * imageSize * imageSize];
            ImageAugmentation.CenterCrop(decoded[i], imageSize, pixels[i]);
        });
        for (int i = distinct; i < decoded.Length; i++) pixels[i] = pixels[i % distinct];
        return new BenchmarkData(view, classNames, decoded, dataset.ClassIndices, pixels, imageSize, distinct);
    }

    /// <summary>Batches in view order (the training loop's rule: a last batch of one is dropped when training).</summary>
    public IEnumerable<(int Start, int Count)> BatchRanges(int batchSize, bool train)
    {
        for (int start = 0; start < Count; start += batchSize)
        {
            int n = Math.Min(batchSize, Count - start);
            if (n == 1 && train) yield break;
            yield return (start, n);
        }
    }

    /// <summary>Planar pixels of images [start, start+count) in one array, [count,3,S,S].</summary>
    public float[] BatchPixels(int start, int count)
    {
        int per = 3 * ImageSize * ImageSize;
        var all = new float[count * per];
        for (int i = 0; i < count; i++) Pixels[start + i].CopyTo(all, i * per);
        return all;
    }

    /// <summary>Pre-built tensors (0..255 pixels, or normalised by <paramref name="normalise"/>) and int64 labels.
    /// The caller owns them.</summary>
    public List<(Tensor Images, Tensor Labels)> Tensors(int batchSize, bool train, ImagePreprocessing? normalise)
    {
        var list = new List<(Tensor, Tensor)>();
        foreach (var (start, n) in BatchRanges(batchSize, train))
        {
            using var scope = NewDisposeScope();
            var x = tensor(BatchPixels(start, n), [n, 3, ImageSize, ImageSize]);
            if (normalise != null) x = normalise.Apply(x);
            var y = tensor(Labels.Skip(start).Take(n).Select(l => (long)l).ToArray());
            list.Add((x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope()));
        }
        return list;
    }

    /// <summary><see cref="Tensors"/> placed on <paramref name="device"/> (normalised there, when asked), so that a
    /// timed GPU section measures the device's work and not host-to-device copies. The caller owns them.</summary>
    public List<(Tensor Images, Tensor Labels)> Tensors(int batchSize, bool train, ImagePreprocessing? normalise, Device device)
    {
        var list = new List<(Tensor, Tensor)>();
        foreach (var (start, n) in BatchRanges(batchSize, train))
        {
            using var scope = NewDisposeScope();
            var x = tensor(BatchPixels(start, n), [n, 3, ImageSize, ImageSize]).to(device);
            if (normalise != null) x = normalise.Apply(x);
            var y = tensor(Labels.Skip(start).Take(n).Select(l => (long)l).ToArray()).to(device);
            list.Add((x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope()));
        }
        return list;
    }
}
