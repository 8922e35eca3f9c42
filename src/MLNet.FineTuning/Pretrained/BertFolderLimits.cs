using MLNet.FineTuning.Modeling;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Checks on a local BERT folder that run before anything is allocated for it, so that a mismatched or hostile folder
/// (a config.json of absurd sizes, a vocabulary of millions of lines, a JSON file of gigabytes) is refused by name
/// instead of ending in a native allocation failure, an out-of-memory kill or an index error in the middle of training.
/// </summary>
internal static class BertFolderLimits
{
    /// <summary>config.json and tokenizer_config.json are kilobytes; above this they are not read.</summary>
    public const long MaxJsonBytes = 16 << 20;

    /// <summary>WordPiece splits words longer than 100 characters no further (Hugging Face's max_input_chars_per_word),
    /// so no real token line comes near this.</summary>
    public const int MaxTokenBytes = 1024;

    public static void CheckSmallJson(string path)
    {
        long length = new FileInfo(path).Length;
        if (length > MaxJsonBytes)
            throw new InvalidDataException($"'{path}' is {length:N0} bytes; a BERT folder's JSON files are a few kilobytes (the limit is {MaxJsonBytes:N0}).");
    }

    /// <summary>Every parameter of the network config.json describes must come from the weight file, at 2 bytes or more
    /// each (fp16/bf16; fp32 takes 4), so the network in fp32 takes at most twice the file's bytes. A config that asks for
    /// more than 8× is refused before the network is built; a smaller mismatch (an edited hidden_size) goes on to the
    /// weight loader, whose message lists every tensor whose shape differs.</summary>
    public static void CheckWeightsCanFill(BertConfig config, string configPath, string weightsPath)
    {
        double parameters = config.ParameterCount();
        long fileBytes = new FileInfo(weightsPath).Length;
        if (parameters * 4 > 8.0 * fileBytes)
            throw new InvalidDataException(
                $"'{configPath}' describes an encoder of {parameters:N0} parameters (vocab_size {config.VocabSize}, hidden_size {config.HiddenSize}, " +
                $"num_hidden_layers {config.NumHiddenLayers}, intermediate_size {config.IntermediateSize}, max_position_embeddings {config.MaxPositionEmbeddings}), " +
                $"{parameters * 4:N0} bytes in fp32, but '{weightsPath}' has only {fileBytes:N0} bytes: config.json and the weights do not belong together.");
    }

    /// <summary>Line n of vocab.txt is token id n, which must be a row of the word embedding (vocab_size rows); read as
    /// bytes in blocks, so that a huge file or line is refused without being held in memory.</summary>
    public static void CheckVocabulary(BertConfig config, string vocabPath)
    {
        using var stream = File.OpenRead(vocabPath);
        var buffer = new byte[1 << 16];
        long lines = 0, lineBytes = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            for (int i = 0; i < read; i++)
            {
                if (buffer[i] == (byte)'\n')
                {
                    lines++;
                    lineBytes = 0;
                    if (lines > config.VocabSize) throw TooManyLines(config, vocabPath);
                }
                else if (++lineBytes > MaxTokenBytes)
                    throw new InvalidDataException($"'{vocabPath}': line {lines + 1} is longer than {MaxTokenBytes} bytes; vocab.txt holds one WordPiece token per line.");
            }
        }
        if (lineBytes > 0 && ++lines > config.VocabSize) throw TooManyLines(config, vocabPath);
    }

    private static InvalidDataException TooManyLines(BertConfig config, string vocabPath) =>
        new($"'{vocabPath}' has more than {config.VocabSize:N0} lines, the vocab_size of config.json: the tokens past line " +
            $"{config.VocabSize:N0} would have no row in the word embedding. Use the vocab.txt that came with these weights.");
}
