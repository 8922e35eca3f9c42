using Microsoft.ML;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Runtime.Images;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Runtime;

/// <summary>
/// Fuzzing (issue 11): thousands of mutated PNG, JPEG and WebP files through the runtime preprocessing and the
/// training reader. Each is either read, giving finite pixels, or refused with an <see cref="InvalidDataException"/>
/// that says what is wrong; nothing else is thrown and the process survives (SkiaSharp decodes natively in this
/// process: a crash would end the test run). The training reader and the runtime agree on which files are readable.
/// </summary>
public sealed class ImageFuzzTests
{
    [Fact]
    public void RuntimePreprocessing_ThousandsOfMutatedFiles_ReadOrRefusedByName()
    {
        var pixels = new ImagePixels(32);
        int read = 0, refused = 0;
        var unexpected = new List<string>();
        foreach (var (name, bytes) in MutatedImages.Make(3000, seed: 11))
        {
            try
            {
                var values = pixels.FromEncoded(bytes);
                Assert.Equal(pixels.Length, values.Length);
                Assert.All(values, v => Assert.True(float.IsFinite(v) && v >= 0 && v <= 255, $"{name}: pixel {v}"));
                read++;
            }
            catch (InvalidDataException e)
            {
                Assert.False(string.IsNullOrWhiteSpace(e.Message), name);
                refused++;
            }
            catch (Exception e)
            {
                unexpected.Add($"{name}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(unexpected.Count == 0, $"{unexpected.Count} of 3000 mutants threw something else than a named refusal:\n{string.Join("\n", unexpected.Take(20))}");
        // The mutants must exercise both outcomes, or the test checks nothing.
        Assert.True(read > 100 && refused > 100, $"read {read}, refused {refused}");
    }

    [Fact]
    public void TrainingReader_SkipsExactlyTheFilesTheRuntimeRefuses()
    {
        using var folder = new TempDirectory();
        var pixels = new ImagePixels(32);
        var rows = new List<ImageFolder.Row>();
        int refusedByRuntime = 0;
        foreach (var (name, bytes) in MutatedImages.Make(300, seed: 12))
        {
            string path = folder.File(name + ".img");
            File.WriteAllBytes(path, bytes);
            rows.Add(new ImageFolder.Row { Label = rows.Count % 2 == 0 ? "a" : "b", ImagePath = path });
            try { pixels.FromEncoded(bytes); }
            catch (InvalidDataException) { refusedByRuntime++; }
        }
        var ml = new MLContext(1);

        var data = ImageDataset.Read(TestData.Load(ml, rows), "Image", "Label", cacheBudgetBytes: 1 << 30, skipUnreadable: true, "training", CancellationToken.None);

        Assert.Equal(refusedByRuntime, data.Skipped);
        Assert.Equal(rows.Count - refusedByRuntime, data.Count);
    }
}
