using System.CommandLine;
using MLNet.FineTuning.Cli.Runs;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary>
/// <c>mlnet-finetune train --config finetune.json</c>: runs a recorded run again. The record's command line goes
/// through the same parser as a typed one; --output and --force may be given anew.
/// </summary>
internal static class TrainConfigCommand
{
    public static Command Create(RootCommand root, Func<RootCommand, IReadOnlyList<string>, int> invoke)
    {
        var command = new Command("train", "Run again the run that a finetune.json records.");
        var config = new Option<string>("--config") { Description = "The finetune.json of an earlier run.", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "Write to this folder instead of the recorded one." };
        var force = new Option<bool>("--force") { Description = "Write into an output folder that already has files." };
        command.Options.Add(config); command.Options.Add(output); command.Options.Add(force);
        command.SetAction(parse =>
        {
            string path = Path.GetFullPath(parse.GetValue(config)!);
            if (!File.Exists(path)) throw new UserError($"--config: '{path}' does not exist.");
            var record = RunRecord.Read(path);
            if (record.Command is not ("image" or "text"))
                throw new UserError($"--config: '{path}' records the command '{record.Command}'; expected image or text.");
            var args = new List<string> { record.Command };
            foreach (var (name, value) in record.Arguments)
            {
                if (name == "--output" && parse.GetValue(output) != null) continue;
                args.Add(name);
                if (value != "true") args.Add(value);
            }
            if (parse.GetValue(output) is string o) args.AddRange(["--output", o]);
            if (parse.GetValue(force)) args.Add("--force");
            Console.WriteLine($"mlnet-finetune {string.Join(' ', args.Select(a => a.Contains(' ') ? $"\"{a}\"" : a))}");
            return invoke(root, args);
        });
        return command;
    }
}
