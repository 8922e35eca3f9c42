// mlnet-finetune: the command-line face of MLNet.FineTuning (README, "Use the tool").
//   mlnet-finetune image --data <folder | table> --output <folder>
//   mlnet-finetune text --data <table> --text-column <name> --label-column <name> --output <folder>
//   mlnet-finetune predict --model <model.zip> --input <file | folder | text>
//   mlnet-finetune train --config <finetune.json>
// Exit codes: 0 success, 1 a user error (a message that says what to change), 2 an internal failure.
using System.CommandLine;
using MLNet.FineTuning.Cli;
using MLNet.FineTuning.Cli.Commands;

var root = new RootCommand("Fine-tune a pretrained image or text network on your own data; writes model.zip, model.onnx, " +
                           "metrics against an ML.NET-only baseline, and finetune.json to rerun it.");
root.Subcommands.Add(ImageCommand.Create());
root.Subcommands.Add(TextCommand.Create());
root.Subcommands.Add(PredictCommand.Create());
root.Subcommands.Add(TrainConfigCommand.Create(root, Invoke));
return ExitCodes.Run(() => Invoke(root, args));

// Exceptions reach ExitCodes (a message and an exit code, no stack trace); a parse error prints its message and a
// pointer to --help rather than the whole help text.
static int Invoke(RootCommand root, IReadOnlyList<string> args)
{
    var result = root.Parse(args);
    if (result.Action is System.CommandLine.Invocation.ParseErrorAction error)
    {
        error.ShowHelp = false;
        Console.Error.WriteLine($"(mlnet-finetune {string.Join(' ', result.CommandResult.Command.Name == root.Name ? "" : result.CommandResult.Command.Name)} --help lists the options)");
    }
    return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
