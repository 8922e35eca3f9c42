namespace MLNet.FineTuning.Onnx;

/// <summary>
/// One dimension of a graph input or output: a fixed size, or a symbolic name such as <c>"batch"</c>
/// that ONNX Runtime binds at run time. Converts implicitly from <see cref="long"/> and <see cref="string"/>,
/// so a shape reads <c>["batch", 3, 224, 224]</c>.
/// </summary>
internal readonly record struct OnnxDim
{
    private OnnxDim(long? size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The fixed size, or null for a symbolic dimension.</summary>
    public long? Size { get; }

    /// <summary>The symbolic name, or null for a fixed dimension.</summary>
    public string? Symbol { get; }

    /// <summary>A fixed dimension (≥ 0).</summary>
    public static implicit operator OnnxDim(long size) =>
        size >= 0 ? new(size, null) : throw new ArgumentOutOfRangeException(nameof(size), size, "A dimension is ≥ 0.");

    /// <summary>A symbolic dimension (a non-empty name).</summary>
    public static implicit operator OnnxDim(string symbol) =>
        string.IsNullOrWhiteSpace(symbol) ? throw new ArgumentException("A symbolic dimension needs a name.", nameof(symbol)) : new(null, symbol);

    /// <inheritdoc/>
    public override string ToString() => Symbol ?? Size!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
