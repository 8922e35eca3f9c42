using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Data;
using MLNet.FineTuning.Tests.Pretrained;

namespace MLNet.FineTuning.Tests.Data;

public class ImageColumnReaderTests
{
    [Fact]
    public void Rows_RawBytesAndLoadImagesOfSameFiles_IdenticalPixels()
    {
        using var dir = new TempDirectory();
        var ml = new MLContext(1);
        // Grey Fashion-MNIST PNGs, plus colour images of other sizes in PNG, JPEG and WebP.
        var rows = TestData.Fashion("train", 2, "Trouser", "Bag").ToList();
        foreach (var (ext, w, h) in new[] { (".png", 23, 17), (".jpg", 40, 31), (".webp", 19, 26) })
            rows.Add(new ImageFolder.Row { Label = "Bag", ImagePath = WriteColourImage(dir.File("colour" + ext), w, h) });

        var fromFiles = ImageDataset.Rows(TestData.Load(ml, rows), "Image", "Label", LabelKind.Class).ToArray();
        var fromBytes = ImageDataset.Rows(TestData.LoadBytes(ml, rows), "Image", "Label", LabelKind.Class).ToArray();

        Assert.Equal(rows.Count, fromBytes.Length);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Null(fromBytes[i].Error);
            Assert.Equal(fromFiles[i].Label, fromBytes[i].Label);
            Assert.Equal((fromFiles[i].Image!.Width, fromFiles[i].Image!.Height), (fromBytes[i].Image!.Width, fromBytes[i].Image!.Height));
            Assert.Equal(fromFiles[i].Image!.Rgb, fromBytes[i].Image!.Rgb);
        }
    }

    /// <summary>A width × height gradient in all three channels, saved in the format of the path's extension.</summary>
    private static string WriteColourImage(string path, int width, int height)
    {
        var pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int p = 4 * (y * width + x);
                (pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]) = ((byte)(x * 11), (byte)(y * 9), (byte)((x + y) * 5), 255);
            }
        using var image = MLImage.CreateFromPixels(width, height, MLPixelFormat.Bgra32, pixels);
        image.Save(path);
        return path;
    }
}
