using MLNet.FineTuning.Data;

namespace MLNet.FineTuning.Tests.Data;

/// <summary>What <see cref="ImageFolder.List"/> counts as a class and as an image.</summary>
public sealed class ImageFolderTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("image-folder-").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    string Touch(params string[] parts)
    {
        string path = Path.Combine([root, .. parts]);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [1, 2, 3]);   // List reads names only; decoding is the batch source's
        return path;
    }

    [Fact]
    public void List_ImagesAtAnyDepthOfAClassFolder_TakeItsName_HiddenEntriesAndOtherFilesDoNot()
    {
        string bag = Touch("Bag", "b.png"), nested = Touch("Bag", "2024", "a.jpg"), coat = Touch("Coat", "c.webp");
        Touch("Bag", "._b.png");                         // macOS's AppleDouble file beside a copied image
        Touch("Bag", ".thumbs", "d.png");                // inside a hidden folder
        Touch(".ipynb_checkpoints", "e.png");            // a hidden folder at the top is not a class
        Touch("Coat", "notes.txt");
        Directory.CreateDirectory(Path.Combine(root, "Empty", "sub"));
        Touch("Empty", "sub", "readme.md");

        var rows = ImageFolder.List(root);

        Assert.Equal([("Bag", nested), ("Bag", bag), ("Coat", coat)], rows.Select(r => (r.Label, r.ImagePath)));
        Assert.Equal(["Empty"], ImageFolder.FoldersWithoutImages(root));
    }

    [Fact]
    public void List_FlatClassFolders_SortedByClassThenFileName()
    {
        string[] files = [Touch("b", "2.png"), Touch("b", "10.png"), Touch("a", "z.png")];

        Assert.Equal([files[2], files[1], files[0]], ImageFolder.List(root).Select(r => r.ImagePath));
        Assert.Empty(ImageFolder.FoldersWithoutImages(root));
    }
}
