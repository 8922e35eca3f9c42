using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Cli.Runs;
using MLNet.FineTuning.Modeling.Lora;

namespace MLNet.FineTuning.Cli.Commands;

/// <summary>
/// <c>mlnet-finetune train --config finetune.json</c>: runs a recorded run again. The record's command line goes
/// through the same parser as a typed one; --output and --force may be given anew. A <c>--time-budget</c> run is
/// replayed as the recipe its search kept (its settings as options, no search), so that the rerun trains the recorded
/// model again, as Model Builder's generated code trains its best pipeline; <c>--search-again</c> searches anew instead
/// (how many trials fit depends on the machine's pace, so it may keep another recipe).
/// </summary>
internal static class TrainConfigCommand
{
    /// <summary>Each setting the automatic recipe varies: its name in a trial's recipe, the estimator option it sets, and
    /// the tool's option for it (null: the tool has none, and always trains the library default, given here).</summary>
    static readonly (string Key, string Property, string? Flag, JsonNode? Default)[] SearchedSettings =
    [
        ("lr", "LearningRate", "--learning-rate", null),
        ("llrd", "LayerwiseLearningRateDecay", "--layerwise-lr-decay", null),
        ("aug", "Augmentation", "--augmentation", null),
        ("targets", "TargetModules", null, new JsonArray([.. LoraTargetModules.AllLinear.Select(t => (JsonNode?)JsonValue.Create(t))])),
    ];

    public static Command Create(RootCommand root, Func<RootCommand, IReadOnlyList<string>, int> invoke)
    {
        var command = new Command("train", "Run again the run that a finetune.json records.");
        var config = new Option<string>("--config") { Description = "The finetune.json of an earlier run.", Required = true };
        var output = new Option<string?>("--output", "-o") { Description = "Write to this folder instead of the recorded one." };
        var force = new Option<bool>("--force") { Description = "Write into an output folder that already has files." };
        var searchAgain = new Option<bool>("--search-again")
        { Description = "For a --time-budget run: search again within the budget instead of training the recipe the search kept." };
        command.Options.Add(config); command.Options.Add(output); command.Options.Add(force); command.Options.Add(searchAgain);
        command.SetAction(parse =>
        {
            string path = Path.GetFullPath(parse.GetValue(config)!);
            if (!File.Exists(path)) throw new UserError($"--config: '{path}' does not exist.");
            var record = RunRecord.Read(path);
            if (record.Command is not ("image" or "text"))
                throw new UserError($"--config: '{path}' records the command '{record.Command}'; expected image or text.");
            var arguments = new SortedDictionary<string, string>(record.Arguments.ToDictionary(), StringComparer.Ordinal);
            if (record.Search != null && !parse.GetValue(searchAgain))
            {
                arguments.Remove("--time-budget");
                foreach (var (flag, value) in KeptRecipe(record, path)) arguments[flag] = value;
                Console.WriteLine($"replaying the recipe the search kept ({record.Search.Kept.Recipe}) without a search; --search-again searches anew");
            }
            var args = new List<string> { record.Command };
            foreach (var (name, value) in arguments)
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

    /// <summary>The tool's options that train the recipe the search kept, with the values the record's options hold.
    /// Refuses a recipe that sets what the tool cannot, so a replay never trains something else in silence.</summary>
    static IEnumerable<(string Flag, string Value)> KeptRecipe(RunRecord record, string path)
    {
        foreach (string part in record.Search!.Kept.Recipe.Split(", ", StringSplitOptions.RemoveEmptyEntries))
        {
            string key = part.Split('=')[0];
            var setting = SearchedSettings.FirstOrDefault(s => s.Key == key);
            JsonNode? value = setting.Key == null ? null : record.Options[setting.Property];
            if (setting.Key == null || value == null)
                throw new UserError($"--config: '{path}' kept the recipe '{record.Search.Kept.Recipe}', and the tool cannot set its '{key}' " +
                                    "from the record; add --search-again to search again within the recorded budget.");
            if (setting.Flag == null)
            {
                if (!JsonNode.DeepEquals(value, setting.Default))
                    throw new UserError($"--config: '{path}' kept {setting.Property} {value.ToJsonString()}, which the tool has no option " +
                                        "for; add --search-again to search again within the recorded budget.");
                continue;
            }
            yield return (setting.Flag, value.GetValueKind() == JsonValueKind.Number
                ? value.GetValue<double>().ToString("R", CultureInfo.InvariantCulture)
                : value.GetValue<string>());
        }
    }
}
