using System.Text.Json;

namespace OnnxServing;

/// <summary>
/// Reads a <c>POST /predict</c> body into the model's inputs, or says what is wrong with it: an image model takes
/// <c>multipart/form-data</c> (one or more files in the field <c>image</c>) or a raw <c>image/*</c> body; a text
/// model takes JSON, <c>{"text": "...", "text2": "..."}</c> or an array of such objects. <see cref="RequestError"/>
/// carries the status (400, 413, 415) and a message a client can act on.
/// </summary>
public static class PredictRequest
{
    /// <summary>The images of the request, prepared; <c>Many</c> when the client sent a list (answered with a list).</summary>
    public static async Task<(List<float[]> Pixels, bool Many)> ReadImages(HttpRequest request, ServedModel model)
    {
        var pixels = model.Pixels!;
        var encoded = new List<byte[]>();
        bool many;
        if (request.HasFormContentType)
        {
            var form = await Read(() => request.ReadFormAsync());
            var files = form.Files.GetFiles("image");
            if (files.Count == 0)
                throw new RequestError(400, $"The multipart form has no file in the field 'image' (fields: {string.Join(", ", form.Files.Select(f => f.Name).Concat(form.Keys).Distinct().DefaultIfEmpty("none"))}).");
            foreach (var file in files)
            {
                using var stream = new MemoryStream();
                await Read(() => file.CopyToAsync(stream));
                encoded.Add(stream.ToArray());
            }
            many = files.Count > 1;
        }
        else if (request.ContentType?.StartsWith("image/", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var stream = new MemoryStream();
            await Read(() => request.Body.CopyToAsync(stream));
            encoded.Add(stream.ToArray());
            many = false;
        }
        else throw new RequestError(415, $"This is an image model: send the image as multipart/form-data (field 'image') or as a raw image/* body; got Content-Type '{request.ContentType ?? "none"}'.");

        var prepared = new List<float[]>(encoded.Count);
        for (int i = 0; i < encoded.Count; i++)
        {
            string which = many ? $"image {i + 1} of {encoded.Count}" : "the image";
            if (encoded[i].Length == 0) throw new RequestError(400, $"{Capital(which)} is empty.");
            try
            {
                prepared.Add(pixels.FromEncoded(encoded[i]));
            }
            catch (InvalidDataException e)
            {
                throw new RequestError(400, $"{Capital(which)} cannot be read: {e.Message}");
            }
        }
        return (prepared, many);
    }

    /// <summary>The texts of the request; <c>Many</c> when the client sent a JSON array.</summary>
    public static async Task<(List<TextInput> Texts, bool Many)> ReadTexts(HttpRequest request, ServedModel model)
    {
        if (!request.HasJsonContentType())
            throw new RequestError(415, $"This is a text model: send JSON, {{\"text\": \"...\"}} or an array of such objects; got Content-Type '{request.ContentType ?? "none"}'.");
        JsonDocument json;
        try
        {
            json = await Read(() => JsonDocument.ParseAsync(request.Body));
        }
        catch (JsonException e)
        {
            throw new RequestError(400, $"The body is not valid JSON: {e.Message}");
        }
        using (json)
        {
            var root = json.RootElement;
            bool many = root.ValueKind == JsonValueKind.Array;
            var items = many ? [.. root.EnumerateArray()] : new List<JsonElement> { root };
            if (items.Count == 0) throw new RequestError(400, "The JSON array is empty: send at least one {\"text\": \"...\"}.");
            var texts = new List<TextInput>(items.Count);
            for (int i = 0; i < items.Count; i++)
            {
                string where = many ? $"item {i} of the array" : "the body";
                if (items[i].ValueKind != JsonValueKind.Object) throw new RequestError(400, $"{Capital(where)} must be an object {{\"text\": \"...\"}}; got {items[i].ValueKind}.");
                string text = Text(items[i], "text", where, model.Options.MaxTextLength, required: true)!;
                // A pair model answers a single text too, from an input unlike its training: each form is refused where it does not fit.
                bool pairs = model.Classifier.ReadsTextPairs;
                string? text2 = Text(items[i], "text2", where, model.Options.MaxTextLength, required: false);
                if (pairs && text2 is null)
                    throw new RequestError(400, $"{Capital(where)} has no \"text2\" field; this model was trained on pairs of texts: send {{\"text\": \"...\", \"text2\": \"...\"}}.");
                if (!pairs && text2 is not null)
                    throw new RequestError(400, $"{Capital(where)} has a \"text2\" field; this model was trained on single texts: send {{\"text\": \"...\"}}.");
                texts.Add(new TextInput(text, text2));
            }
            return (texts, many);
        }
    }

    private static string? Text(JsonElement item, string field, string where, int maxLength, bool required)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
            return required ? throw new RequestError(400, $"{Capital(where)} has no \"{field}\" field.") : null;
        if (value.ValueKind != JsonValueKind.String) throw new RequestError(400, $"\"{field}\" in {where} must be a string; got {value.ValueKind}.");
        string text = value.GetString()!;
        if (text.Trim().Length == 0) throw new RequestError(400, $"\"{field}\" in {where} is empty.");
        if (text.Length > maxLength)
            throw new RequestError(400, $"\"{field}\" in {where} has {text.Length:N0} characters; this service accepts at most {maxLength:N0} (--max-text-length).");
        return text;
    }

    // Kestrel stops reading a body past MaxRequestBodySize with a BadHttpRequestException that carries 413.
    private static async Task<T> Read<T>(Func<Task<T>> read)
    {
        try { return await read(); }
        catch (BadHttpRequestException e) { throw Refused(e); }
    }

    private static async Task Read(Func<Task> read)
    {
        try { await read(); }
        catch (BadHttpRequestException e) { throw Refused(e); }
    }

    private static RequestError Refused(BadHttpRequestException e) => e.StatusCode == StatusCodes.Status413PayloadTooLarge
        ? new RequestError(413, "The request body is larger than this service accepts (--max-body-bytes).")
        : new RequestError(e.StatusCode, $"The request body could not be read: {e.Message}");

    private static string Capital(string s) => char.ToUpperInvariant(s[0]) + s[1..];
}

/// <summary>A request the service refuses: the status and a message for the client.</summary>
public sealed class RequestError(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
