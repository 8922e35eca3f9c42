namespace MLNet.FineTuning.Quality;

/// <summary>How big the runs of a profile are. Only what a user has to choose for the hardware is set here
/// (rows, epochs, image size, batch size); everything else comes from the library defaults or the recipe.</summary>
/// <param name="TrainRows">At most this many training rows, the same seeded sample for every recipe and seed.</param>
/// <param name="TestRows">At most this many test rows (likewise).</param>
/// <param name="ImageSize">Image input side; 0 = the data set's <see cref="SuiteDataSet.CpuImageSize"/>.</param>
internal sealed record Profile(string Name, int TrainRows, int TestRows, int ImageEpochs, int ImageSize, int ImageBatchSize,
                               int TextEpochs, int TextBatchSize)
{
    /// <summary>What runs in minutes on 2 CPU cores: 1,000 rows, small images, few epochs.</summary>
    public static readonly Profile Cpu = new("cpu", 1000, 1000, ImageEpochs: 5, ImageSize: 0, ImageBatchSize: 32, TextEpochs: 3, TextBatchSize: 16);
    /// <summary>A GPU's: every row, 128 px images.</summary>
    public static readonly Profile Gpu = new("gpu", int.MaxValue, int.MaxValue, ImageEpochs: 5, ImageSize: 128, ImageBatchSize: 64, TextEpochs: 3, TextBatchSize: 32);

    public static Profile Get(string name) => name switch
    {
        "cpu" => Cpu,
        "gpu" => Gpu,
        _ => throw new ArgumentException($"Unknown profile '{name}' (cpu or gpu)."),
    };

    public int ImageSizeFor(SuiteDataSet d) => ImageSize > 0 ? ImageSize : d.CpuImageSize;
}
