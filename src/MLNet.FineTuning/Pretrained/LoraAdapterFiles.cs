using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// Reads and writes a LoRA adapter in PEFT's folder layout, so that <c>PeftModel.from_pretrained(
/// BertForSequenceClassification…, folder)</c> loads what this library trained, and the other way round:
/// <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>.
/// </summary>
/// <remarks>
/// Layout, as checked in PEFT's source (huggingface/peft, 2026-08):
/// <list type="bullet">
/// <item>File names: <c>CONFIG_NAME</c>, <c>SAFETENSORS_WEIGHTS_NAME</c>, <c>WEIGHTS_NAME</c> in <c>src/peft/utils/constants.py</c>.</item>
/// <item>Weight keys are the <c>PeftModel</c>'s state_dict keys (<c>base_model.model.</c> + the transformers model's names,
/// <c>bert.encoder.layer.0.attention.self.query.lora_A.default.weight</c>) with the adapter name removed
/// (<c>get_peft_model_state_dict</c> in <c>src/peft/utils/save_and_load.py</c>; <c>_remove_adapter_name_from_state_dict_key</c>
/// in <c>src/peft/tuners/tuners_utils.py</c>): <c>base_model.model.bert.encoder.layer.0.attention.self.query.lora_A.weight</c>.
/// With <c>bias="none"</c> nothing of the base is saved.</item>
/// <item>A <c>modules_to_save</c> head is saved without its wrapper's <c>modules_to_save.&lt;adapter&gt;.</c> part
/// (<c>ModulesToSaveWrapper.adapter_state_dict</c> in <c>src/peft/utils/other.py</c>; PEFT ≤ 0.13 did the same by string
/// replacement): <c>base_model.model.classifier.weight</c>, <c>base_model.model.classifier.bias</c>.</item>
/// <item>For <c>task_type="SEQ_CLS"</c> PEFT itself sets <c>modules_to_save</c> to <c>["classifier", "score"]</c>
/// (<c>PeftModelForSequenceClassification.__init__</c> in <c>src/peft/peft_model.py</c>); this writes the same.</item>
/// <item>The config is <c>json.dumps(to_dict(), indent=2, sort_keys=True)</c> (<c>PeftConfigMixin.save_pretrained</c>,
/// <c>src/peft/config.py</c>); fields left out load as PEFT's defaults, unknown ones are dropped with a warning.</item>
/// </list>
/// </remarks>
internal static class LoraAdapterFiles
{
    /// <summary>PEFT's <c>CONFIG_NAME</c>.</summary>
    public const string ConfigFileName = "adapter_config.json";

    /// <summary>PEFT's <c>SAFETENSORS_WEIGHTS_NAME</c>: what is written and what is read first.</summary>
    public const string WeightsFileName = "adapter_model.safetensors";

    /// <summary>PEFT's <c>WEIGHTS_NAME</c> (a PyTorch pickle), read when there is no .safetensors file.</summary>
    public const string PickleWeightsFileName = "adapter_model.bin";

    /// <summary>Before every saved key: <c>PeftModel.base_model</c> (the <c>LoraModel</c>) and its <c>model</c>.</summary>
    public const string PeftPrefix = "base_model.model.";

    /// <summary>The name of the head in <c>BertForSequenceClassification</c>, and of the keys a head map must use.</summary>
    public const string HeadModuleName = "classifier";

    /// <summary>What PEFT writes as <c>modules_to_save</c> for <c>SEQ_CLS</c>: its two classifier names.</summary>
    public static IReadOnlyList<string> SequenceClassificationModulesToSave { get; } = [HeadModuleName, "score"];

    /// <summary>
    /// Writes the adapter <paramref name="adapterName"/> (default: the active one) of <paramref name="lora"/>, and the
    /// classification head if given, into <paramref name="folder"/> (created if missing; the two files replaced whole).
    /// </summary>
    /// <param name="folder">The adapter folder.</param>
    /// <param name="lora">The injected encoder.</param>
    /// <param name="baseModelNameOrPath"><c>base_model_name_or_path</c>: what PEFT loads the base from, e.g.
    /// <c>sentence-transformers/all-MiniLM-L6-v2</c> or a local folder.</param>
    /// <param name="head">The head's tensors by <c>BertForSequenceClassification</c> name (<c>classifier.weight</c>
    /// [K, hidden], <c>classifier.bias</c> [K]), or null for the adapter alone (<c>modules_to_save</c> is then null).</param>
    /// <param name="adapterName">Which adapter; null for the active one.</param>
    /// <exception cref="ArgumentException">No such adapter, or a head key outside <c>classifier.</c>.</exception>
    /// <exception cref="IOException">A file could not be written.</exception>
    public static void Save(string folder, LoraInjector lora, string baseModelNameOrPath,
        IReadOnlyDictionary<string, Tensor>? head = null, string? adapterName = null)
    {
        ArgumentNullException.ThrowIfNull(lora);
        ArgumentNullException.ThrowIfNull(baseModelNameOrPath);
        adapterName ??= lora.ActiveAdapter ?? throw new ArgumentException("No adapter is active; name the adapter to save.", nameof(adapterName));
        if (!lora.Adapters.Contains(adapterName))
            throw new ArgumentException($"No adapter named '{adapterName}'; there are: {string.Join(", ", lora.Adapters)}.", nameof(adapterName));
        var badHeadKeys = head?.Keys.Where(k => !k.StartsWith(HeadModuleName + ".", StringComparison.Ordinal)).ToList() ?? [];
        if (badHeadKeys.Count > 0)
            throw new ArgumentException(
                $"Head tensors must be named as in BertForSequenceClassification ('{HeadModuleName}.weight', '{HeadModuleName}.bias'); got {string.Join(", ", badHeadKeys)}.",
                nameof(head));

        Directory.CreateDirectory(folder);
        using var scope = NewDisposeScope();
        var tensors = FileStateDict(lora, adapterName, head);
        using var bytes = new MemoryStream();
        Safetensors.SaveStateDict(bytes, tensors, leaveOpen: true);
        AtomicFile.Write(Path.Combine(folder, WeightsFileName), bytes.ToArray(), "LoRA adapter weights");
        var json = ConfigJson(lora.Config(adapterName), baseModelNameOrPath, head is { Count: > 0 });
        AtomicFile.Write(Path.Combine(folder, ConfigFileName), System.Text.Encoding.UTF8.GetBytes(json), "LoRA adapter config");
    }

    /// <summary>The tensors of the file, by PEFT's saved keys, on the CPU (into the caller's dispose scope).</summary>
    internal static Dictionary<string, Tensor> FileStateDict(LoraInjector lora, string adapterName, IReadOnlyDictionary<string, Tensor>? head)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, module) in lora.ModulesWith(adapterName))
        {
            tensors[LoraKey(lora.PeftEncoderPrefix, name, "lora_A")] = module.LoraA(adapterName).weight!.detach().cpu().contiguous();
            tensors[LoraKey(lora.PeftEncoderPrefix, name, "lora_B")] = module.LoraB(adapterName).weight!.detach().cpu().contiguous();
        }
        foreach (var (key, tensor) in head ?? new Dictionary<string, Tensor>())
            tensors[PeftPrefix + key] = tensor.detach().cpu().contiguous();
        return tensors;
    }

    /// <summary>The saved key of a LoRA matrix: <c>base_model.model.bert.</c> (<c>roberta.</c>) + module + <c>.lora_A.weight</c>.</summary>
    internal static string LoraKey(string encoderPrefix, string moduleName, string matrix) =>
        $"{PeftPrefix}{encoderPrefix}{moduleName}.{matrix}.weight";

    /// <summary>
    /// adapter_config.json for <paramref name="config"/>: PEFT's field names, keys sorted, two-space indent. Only
    /// fields every PEFT since 0.9 knows are written; the others it would fill with the same defaults.
    /// </summary>
    internal static string ConfigJson(LoraConfig config, string baseModelNameOrPath, bool hasHead)
    {
        config.Validate();
        var fields = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = JsonValue.Create(config.Alpha),
            ["lora_dropout"] = JsonValue.Create(config.Dropout),
            ["modules_to_save"] = hasHead ? new JsonArray([.. SequenceClassificationModulesToSave.Select(m => JsonValue.Create(m))]) : null,
            ["peft_type"] = "LORA",
            ["r"] = config.Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = new JsonArray([.. config.TargetModules.Select(t => JsonValue.Create(t))]),
            ["task_type"] = "SEQ_CLS",
            ["use_dora"] = false,
            ["use_rslora"] = config.UseRsLora,
        };
        var root = new JsonObject();
        foreach (var (key, value) in fields) root[key] = value;
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>
    /// Reads a PEFT LoRA adapter folder and checks it on its own: a LoRA config this library can run, and
    /// tensors that fit it (A [r, in], B [out, r], both for each module). Keys with the adapter name in them
    /// (<c>.lora_A.default.weight</c>) are accepted as well as PEFT's saved form, and so are encoder keys without
    /// <c>bert.</c> (an adapter trained on <c>BertModel</c>). Whether it fits a given encoder is checked by
    /// <see cref="LoraAdapterFile.CopyTo"/>.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">No such folder.</exception>
    /// <exception cref="FileNotFoundException">adapter_config.json or the weights file is missing.</exception>
    /// <exception cref="InvalidDataException">Invalid JSON or values; keys that are not LoRA or head tensors, A without B,
    /// or shapes that contradict <c>r</c> (each named, with the shapes).</exception>
    /// <exception cref="NotSupportedException">A PEFT feature this library does not implement (DoRA, fan_in_fan_out,
    /// bias training, rank or alpha patterns, layer selection, regex targets); the message names the field.</exception>
    public static LoraAdapterFile Load(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The LoRA adapter folder '{folder}' does not exist.");
        string configPath = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath)) throw new FileNotFoundException($"'{folder}' has no {ConfigFileName}.", configPath);
        var (config, baseModel, modulesToSave) = ParseConfig(File.ReadAllText(configPath), configPath);

        string weightsPath = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(weightsPath)) weightsPath = Path.Combine(folder, PickleWeightsFileName);
        if (!File.Exists(weightsPath))
            throw new FileNotFoundException($"'{folder}' has neither {WeightsFileName} nor {PickleWeightsFileName}.", weightsPath);

        using var scope = NewDisposeScope();
        var (lora, head) = SortKeys(StateDictLoader.Read(weightsPath), config, modulesToSave, weightsPath);
        foreach (var t in lora.Values.Concat(head.Values)) t.MoveToOuterDisposeScope();
        return new LoraAdapterFile(folder, config, baseModel, modulesToSave, lora, head);
    }

    /// <summary>adapter_config.json → the config, base_model_name_or_path and modules_to_save; absent fields take PEFT's defaults.</summary>
    internal static (LoraConfig Config, string? BaseModel, IReadOnlyList<string> ModulesToSave) ParseConfig(string json, string origin)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"'{origin}' is not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{origin}' is not valid JSON: {e.Message}", e);
        }
        var problems = new List<string>();
        var unsupported = new List<string>();
        T Get<T>(string field, T absent)
        {
            var node = root[field];
            if (node is null) return absent;
            try
            {
                return node.GetValue<T>();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                problems.Add($"{field} must be {(typeof(T) == typeof(string) ? "a string" : typeof(T) == typeof(bool) ? "true or false" : "a number")}; got {node.ToJsonString()}.");
                return absent;
            }
        }
        IReadOnlyList<string>? Names(string field)
        {
            var node = root[field];
            if (node is null) return null;
            if (node is JsonArray array && array.All(n => n is JsonValue v && v.TryGetValue<string>(out _)))
                return [.. array.Select(n => n!.GetValue<string>())];
            if (node is JsonValue value && value.TryGetValue<string>(out _))
                unsupported.Add($"{field} as a regular expression ({node.ToJsonString()}); list the module names instead");
            else problems.Add($"{field} must be a list of names; got {node.ToJsonString()}.");
            return null;
        }
        bool IsEmpty(string field) => root[field] is null || root[field] is JsonObject { Count: 0 } || root[field] is JsonArray { Count: 0 };

        string peftType = Get("peft_type", "");
        if (peftType != "LORA") problems.Add($"peft_type must be \"LORA\"; got {root["peft_type"]?.ToJsonString() ?? "nothing"}.");
        // Absent fields are PEFT's LoraConfig defaults (r=8, lora_alpha=8, lora_dropout=0.0, target_modules by model type).
        double rank = Get("r", 8.0);
        if (rank != Math.Floor(rank)) problems.Add($"r must be a whole number; got {rank.ToString(CultureInfo.InvariantCulture)}.");
        var config = new LoraConfig
        {
            Rank = (int)Math.Clamp(rank, int.MinValue, int.MaxValue),
            Alpha = Get("lora_alpha", 8.0),
            Dropout = Get("lora_dropout", 0.0),
            UseRsLora = Get("use_rslora", false),
            TargetModules = Names("target_modules") ?? LoraTargetModules.Bert,
        };
        if (Get("bias", "none") != "none") unsupported.Add($"bias \"{Get("bias", "none")}\" (only \"none\": base biases stay frozen)");
        if (Get("use_dora", false)) unsupported.Add("use_dora true (DoRA)");
        if (Get("fan_in_fan_out", false)) unsupported.Add("fan_in_fan_out true (Conv1D-style weights)");
        if (Get("lora_bias", false)) unsupported.Add("lora_bias true");
        foreach (var field in new[] { "rank_pattern", "alpha_pattern", "layers_to_transform", "layers_pattern", "exclude_modules" })
            if (!IsEmpty(field)) unsupported.Add($"{field} {root[field]!.ToJsonString()}");
        var modulesToSave = Names("modules_to_save") ?? [];
        string? baseModel = Get<string?>("base_model_name_or_path", null);

        problems.AddRange(config.Problems());
        if (problems.Count > 0)
            throw new InvalidDataException($"'{origin}' is not a usable LoRA config: " + string.Join(" ", problems));
        if (unsupported.Count > 0)
            throw new NotSupportedException($"'{origin}' uses PEFT features this library does not implement: {string.Join("; ", unsupported)}.");
        return (config, baseModel, modulesToSave);
    }

    /// <summary>
    /// Splits the file's tensors into LoRA matrices (keyed <c>encoder.layer.0.attention.self.query.lora_A.weight</c>,
    /// i.e. the encoder's module name + PEFT's saved suffix) and head tensors (<c>classifier.weight</c>), and checks
    /// them against the config.
    /// </summary>
    private static (Dictionary<string, Tensor> Lora, Dictionary<string, Tensor> Head) SortKeys(
        Dictionary<string, Tensor> tensors, LoraConfig config, IReadOnlyList<string> modulesToSave, string origin)
    {
        var lora = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var head = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var fileKeyOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var unexpected = new List<string>();
        var twice = new List<string>();
        foreach (var (key, tensor) in tensors)
        {
            string? normalized = NormalizeLoraKey(key);
            var into = lora;
            if (normalized is null && (normalized = NormalizeHeadKey(key, modulesToSave)) is not null) into = head;
            if (normalized is null) unexpected.Add(key);
            else if (!into.TryAdd(normalized, tensor)) twice.Add(key);
            else fileKeyOf[normalized] = key;
        }

        var wrong = new List<string>();
        var unpaired = new List<string>();
        foreach (var (key, tensor) in lora)
        {
            bool isA = key.EndsWith(".lora_A.weight", StringComparison.Ordinal);
            string module = key[..^".lora_A.weight".Length];
            string partner = module + (isA ? ".lora_B.weight" : ".lora_A.weight");
            if (!lora.ContainsKey(partner)) unpaired.Add($"{fileKeyOf[key]} has no {(isA ? "lora_B" : "lora_A")}");
            string shape = $"[{string.Join(",", tensor.shape)}]";
            if (tensor.dim() != 2)
                wrong.Add($"{fileKeyOf[key]} {shape} is not a matrix");
            else if (isA && tensor.shape[0] != config.Rank)
                wrong.Add($"{fileKeyOf[key]} {shape}: lora_A must be [r, in] = [{config.Rank}, {tensor.shape[1]}] for r = {config.Rank}");
            else if (!isA && tensor.shape[1] != config.Rank)
                wrong.Add($"{fileKeyOf[key]} {shape}: lora_B must be [out, r] = [{tensor.shape[0]}, {config.Rank}] for r = {config.Rank}");
        }
        if (lora.Count == 0 && unexpected.Count + twice.Count == 0) unpaired.Add("the file holds no lora_A/lora_B tensors");
        if (unexpected.Count + twice.Count + wrong.Count + unpaired.Count > 0)
            throw new InvalidDataException(
                $"'{origin}' does not hold a LoRA adapter this config (r = {config.Rank}) describes; nothing was loaded." +
                Section("wrong shape", wrong) + Section("unpaired", unpaired) +
                Section("unexpected (not lora_A/lora_B of a module, nor a tensor of modules_to_save " +
                        $"[{string.Join(", ", modulesToSave)}])", unexpected) +
                Section("present twice (with and without the adapter name or the bert./roberta. prefix)", twice));
        return (lora, head);
    }

    /// <summary>
    /// <c>base_model.model.[bert.|roberta.]M.lora_A[.adapter].weight</c> → <c>M.lora_A.weight</c>; null for any other key.
    /// </summary>
    internal static string? NormalizeLoraKey(string key)
    {
        if (!key.StartsWith(PeftPrefix, StringComparison.Ordinal)) return null;
        string rest = key[PeftPrefix.Length..];
        if (LoraInjector.PeftEncoderPrefixes.FirstOrDefault(p => rest.StartsWith(p, StringComparison.Ordinal)) is { } prefix) rest = rest[prefix.Length..];
        foreach (var matrix in new[] { ".lora_A.", ".lora_B." })
        {
            int at = rest.LastIndexOf(matrix, StringComparison.Ordinal);
            if (at <= 0) continue;
            string module = rest[..at], tail = rest[(at + matrix.Length)..];
            // PEFT's saved form ends in "weight"; the live form has the adapter name before it ("default.weight").
            if (tail == "weight" || (tail.EndsWith(".weight", StringComparison.Ordinal) && tail.Count(c => c == '.') == 1))
                return $"{module}{matrix}weight";
        }
        return null;
    }

    /// <summary>
    /// <c>base_model.model.classifier.weight</c> (also <c>….classifier.modules_to_save[.adapter].weight</c>) →
    /// <c>classifier.weight</c> when <c>classifier</c> is in modules_to_save; null otherwise.
    /// </summary>
    internal static string? NormalizeHeadKey(string key, IReadOnlyList<string> modulesToSave)
    {
        if (!key.StartsWith(PeftPrefix, StringComparison.Ordinal)) return null;
        string rest = key[PeftPrefix.Length..];
        foreach (var module in modulesToSave)
        {
            if (!rest.StartsWith(module + ".", StringComparison.Ordinal)) continue;
            string parameter = rest[(module.Length + 1)..];
            const string wrapper = "modules_to_save.";
            if (parameter.StartsWith(wrapper, StringComparison.Ordinal))
            {
                parameter = parameter[wrapper.Length..];
                int dot = parameter.IndexOf('.');
                // "modules_to_save.default.weight" (live) or "modules_to_save.weight".
                if (dot > 0 && parameter.IndexOf('.', dot + 1) < 0) parameter = parameter[(dot + 1)..];
            }
            return parameter.Length == 0 || parameter.Contains("lora_", StringComparison.Ordinal) ? null : $"{module}.{parameter}";
        }
        return null;
    }

    private static string Section(string what, List<string> items) =>
        items.Count == 0 ? "" : $"{Environment.NewLine}  {what} ({items.Count}): {string.Join("; ", items)}";
}
