using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNet.FineTuning.Modeling;

/// <summary>
/// Carries a ViT position table to another patch grid, what torchvision's <c>interpolate_embeddings</c> does for a model
/// fine-tuned at a new size: the class token's row is kept, the g×g patch rows are read as a D-channel image and
/// resized bicubically (corners aligned) to the new grid.
/// </summary>
/// <remarks>
/// Done once, when reference weights are loaded, rather than at every forward: the network then holds a table of its own
/// size, which trains, saves and exports like any other parameter (timm resamples at load time too). torchvision's
/// corner-aligned bicubic is followed rather than timm's antialiased one so that torchvision can check it
/// (eng/parity/torchvision_fixtures.py writes a tiny ViT resampled from 32 to 48 px).
/// </remarks>
internal static class VitPositions
{
    /// <summary>The table's state_dict key.</summary>
    public const string Key = "encoder.pos_embedding";

    /// <summary>
    /// <paramref name="table"/> [1, 1 + g'², D] laid out for a <paramref name="gridSize"/>-patch side: unchanged (the same
    /// tensor) when g' is already that, or when it is not a [1, 1 + square, D] table (the loader then reports its shape).
    /// </summary>
    public static Tensor Resample(Tensor table, int gridSize)
    {
        if (table.dim() != 3 || table.shape[0] != 1) return table;
        long patches = table.shape[1] - 1, width = table.shape[2];
        long from = (long)Math.Round(Math.Sqrt(patches));
        if (from * from != patches || from == gridSize || from < 1) return table;
        using var scope = NewDisposeScope();
        var token = table.narrow(1, 0, 1);
        // [1, g'², D] → [1, D, g', g'] → resized → [1, g², D]: rows stay in torchvision's row-major patch order.
        var grid = table.narrow(1, 1, patches).transpose(1, 2).reshape(1, width, from, from).to(float32);
        var resized = functional.interpolate(grid, [gridSize, gridSize], mode: InterpolationMode.Bicubic, align_corners: true);
        var rows = resized.reshape(1, width, (long)gridSize * gridSize).transpose(1, 2).to(table.dtype);
        return cat([token, rows], 1).MoveToOuterDisposeScope();
    }
}
