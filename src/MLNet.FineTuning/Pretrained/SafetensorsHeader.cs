using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Checks a .safetensors file's header against the file before any tensor is made from it. The reader (TorchSharp.PyBridge)
/// trusts the header: a 16-byte file that declares a [1000000, 1000000] float tensor makes libtorch allocate 4 TB, a
/// header length of 2 GB allocates 2 GB, and its errors carry native stack traces. A file from a stranger must be
/// refused by what it declares, with a message that names the tensor and what is wrong. The format: 8 bytes of header
/// length (little-endian), a JSON object of tensors (dtype, shape, data_offsets into the data that follows) and an
/// optional <c>__metadata__</c> object of strings.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The largest header the format allows (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly Dictionary<string, int> BytesPerElement = new(StringComparer.Ordinal)
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E4M3"] = 1, ["F8_E5M2"] = 1, ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4, ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    /// <exception cref="InvalidDataException">The header does not describe this file; the message names the file and
    /// the first lie found.</exception>
    public static void Check(string path)
    {
        using var file = File.OpenRead(path);
        long length = file.Length;
        Span<byte> prefix = stackalloc byte[8];
        if (length < 8 || file.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
            throw Bad(path, $"it has {length} bytes, fewer than the 8 of a safetensors header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)Math.Min(MaxHeaderBytes, length - 8))
            throw Bad(path, $"its header length says {headerLength:N0} bytes, but the file has {length - 8:N0} after it (and a header may have at most {MaxHeaderBytes:N0})");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        long dataBytes = length - 8 - (long)headerLength;

        // The format's header is UTF-8 JSON; the JSON reader leaves invalid UTF-8 inside strings to the first read of
        // a name (an InvalidOperationException there), so it is checked here, as are strings escaped to lone surrogates.
        if (!System.Text.Unicode.Utf8.IsValid(header)) throw Bad(path, $"its header is not UTF-8 text");
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Bad(path, $"its header is not JSON ({e.Message})");
        }
        using (json)
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, $"its header is not a JSON object of tensors");
            try
            {
                foreach (var tensor in json.RootElement.EnumerateObject())
                    if (tensor.Name != "__metadata__") CheckTensor(path, tensor, dataBytes);
            }
            catch (InvalidOperationException e)
            {
                throw Bad(path, $"its header holds a string that is not valid text ({e.Message})");
            }
        }
    }

    static void CheckTensor(string path, JsonProperty tensor, long dataBytes)
    {
        string name = tensor.Name;
        var t = tensor.Value;
        if (t.ValueKind != JsonValueKind.Object
            || !t.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String
            || !t.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array
            || !t.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw Bad(path, $"tensor '{name}' does not have a dtype, a shape and two data_offsets");
        if (!BytesPerElement.TryGetValue(dtype.GetString()!, out int elementBytes))
            throw Bad(path, $"tensor '{name}' has dtype '{dtype.GetString()}', which is not a safetensors dtype ({string.Join(", ", BytesPerElement.Keys)})");
        long elements = 1;
        foreach (var dimension in shape.EnumerateArray())
        {
            if (!dimension.TryGetInt64(out long d) || d < 0)
                throw Bad(path, $"tensor '{name}' has shape {shape.GetRawText()}: every dimension must be a whole number ≥ 0");
            try
            {
                elements = checked(elements * d);
            }
            catch (OverflowException)
            {
                throw Bad(path, $"tensor '{name}' has shape {shape.GetRawText()}, more elements than any file holds");
            }
        }
        if (!offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin || end > dataBytes)
            throw Bad(path, $"tensor '{name}' has data_offsets {offsets.GetRawText()}, outside the {dataBytes:N0} data bytes after the header");
        long expected;
        try
        {
            expected = checked(elements * elementBytes);
        }
        catch (OverflowException)
        {
            throw Bad(path, $"tensor '{name}' has shape {shape.GetRawText()}, more bytes than any file holds");
        }
        if (end - begin != expected)
            throw Bad(path, $"tensor '{name}' has shape {shape.GetRawText()} of {dtype.GetString()} ({expected:N0} bytes), but its data_offsets {offsets.GetRawText()} hold {end - begin:N0}");
    }

    static InvalidDataException Bad(string path, FormattableString what) =>
        new($"'{path}' is not a valid safetensors file: {what.ToString(CultureInfo.InvariantCulture)}.");
}
