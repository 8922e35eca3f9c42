using Microsoft.ML;
using Microsoft.ML.Data;
using MLNet.FineTuning.Runtime.Images;

namespace MLNet.FineTuning.Data;

/// <summary>Reads the current row's image from either kind of image column (<see cref="ImageColumnKind"/>).</summary>
internal static class ImageColumnReader
{
    /// <summary>A function that returns the cursor's current image, or throws with the reason it is unreadable.</summary>
    public static Func<DecodedImage> Create(DataViewRowCursor cursor, DataViewSchema.Column column) =>
        ImageColumns.KindOf(column.Type) == ImageColumnKind.Encoded ? Encoded(cursor, column) : Decoded(cursor, column);

    private static Func<DecodedImage> Decoded(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getImage = cursor.GetGetter<MLImage>(column);
        return () =>
        {
            // Not disposed here: an upstream cache checkpoint may hand out the same MLImage again next epoch.
            // A fresh null each row, too: ML.NET's loader disposes the image it is handed back.
            MLImage image = null!;
            getImage(ref image);
            if (image == null || image.Width == 0 || image.Height == 0)
                throw new InvalidDataException("no image");
            return DecodedImage.From(image);
        };
    }

    private static Func<DecodedImage> Encoded(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        var getBytes = cursor.GetGetter<VBuffer<byte>>(column);
        VBuffer<byte> bytes = default;
        return () =>
        {
            getBytes(ref bytes);
            // The saved model decodes with the same function (DecodeImageMapping), so training and scoring see
            // the same pixels; this image is ours alone, so it is freed as soon as its pixels are copied.
            using var image = EncodedImage.Decode(bytes.IsDense ? bytes.GetValues().ToArray() : bytes.DenseValues().ToArray());
            return DecodedImage.From(image);
        };
    }
}
