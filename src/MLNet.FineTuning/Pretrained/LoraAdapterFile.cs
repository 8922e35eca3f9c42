using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Pretrained;

/// <summary>
/// A PEFT LoRA adapter read from a folder (<see cref="LoraAdapterFiles.Load"/>): its config, its A/B matrices and
/// the classification head it may carry, checked on their own; <see cref="CopyTo"/> puts them into an encoder.
/// Owns its tensors.
/// </summary>
internal sealed class LoraAdapterFile : IDisposable
{
    internal LoraAdapterFile(string folder, LoraConfig config, string? baseModelNameOrPath, IReadOnlyList<string> modulesToSave,
        Dictionary<string, Tensor> loraWeights, Dictionary<string, Tensor> head)
    {
        Folder = folder;
        Config = config;
        BaseModelNameOrPath = baseModelNameOrPath;
        ModulesToSave = modulesToSave;
        LoraWeights = loraWeights;
        Head = head;
    }

    /// <summary>Where it was read from.</summary>
    public string Folder { get; }

    /// <summary>r, lora_alpha, lora_dropout, target_modules, use_rslora.</summary>
    public LoraConfig Config { get; }

    /// <summary><c>base_model_name_or_path</c>, or null when the file has none.</summary>
    public string? BaseModelNameOrPath { get; }

    /// <summary><c>modules_to_save</c> (empty when none).</summary>
    public IReadOnlyList<string> ModulesToSave { get; }

    /// <summary>A and B by encoder module name + <c>.lora_A.weight</c> / <c>.lora_B.weight</c> (<c>encoder.layer.0.attention.self.query.lora_A.weight</c>).</summary>
    public IReadOnlyDictionary<string, Tensor> LoraWeights { get; }

    /// <summary>The head's tensors by <c>BertForSequenceClassification</c> name (<c>classifier.weight</c>, <c>classifier.bias</c>); empty when none was saved.</summary>
    public IReadOnlyDictionary<string, Tensor> Head { get; }

    /// <summary>
    /// Injects <see cref="Config"/> into <paramref name="encoder"/> as adapter <paramref name="adapterName"/> and copies
    /// the matrices in (and the head into <paramref name="head"/> if given).
    /// </summary>
    /// <inheritdoc cref="CopyTo" path="/exception"/>
    public LoraInjector InjectInto(BertEncoder encoder, IReadOnlyDictionary<string, Tensor>? head = null,
        string adapterName = LoraInjector.DefaultAdapterName)
    {
        var lora = LoraInjector.Apply(encoder, Config, adapterName);
        try
        {
            CopyTo(lora, head, adapterName);
        }
        catch
        {
            lora.Remove();
            throw;
        }
        return lora;
    }

    /// <summary>
    /// Copies the matrices into the adapter <paramref name="adapterName"/> (default: the active one) of
    /// <paramref name="lora"/>, and the head into <paramref name="head"/> when given (when not, a saved head is
    /// left unread). All keys and shapes are checked first (<c>StateDictLoader</c>); then all is copied, or nothing.
    /// </summary>
    /// <param name="lora">The injected encoder.</param>
    /// <param name="head">Tensors to fill by <c>classifier.weight</c>, <c>classifier.bias</c>, or null.</param>
    /// <param name="adapterName">Which adapter to fill; null for the active one.</param>
    /// <exception cref="InvalidDataException">The adapter's r, lora_alpha or use_rslora differ from the file's; or modules
    /// the adapter has that the file lacks, modules the file has that the adapter lacks, or shapes that differ (all listed).</exception>
    public void CopyTo(LoraInjector lora, IReadOnlyDictionary<string, Tensor>? head = null, string? adapterName = null)
    {
        ArgumentNullException.ThrowIfNull(lora);
        adapterName ??= lora.ActiveAdapter ?? throw new ArgumentException("No adapter is active; name the adapter to fill.", nameof(adapterName));
        var have = lora.Config(adapterName);
        var differences = new List<string>();
        if (have.Rank != Config.Rank) differences.Add($"r {Config.Rank} (adapter: {have.Rank})");
        if (!have.Alpha.Equals(Config.Alpha)) differences.Add($"lora_alpha {Config.Alpha} (adapter: {have.Alpha})");
        if (have.UseRsLora != Config.UseRsLora) differences.Add($"use_rslora {Config.UseRsLora} (adapter: {have.UseRsLora})");
        if (differences.Count > 0)
            throw new InvalidDataException(
                $"'{Folder}' was trained with other LoRA settings than adapter '{adapterName}': {string.Join(", ", differences)}. Inject with its Config.");

        var target = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, module) in lora.ModulesWith(adapterName))
        {
            target[$"{name}.lora_A.weight"] = module.LoraA(adapterName).weight!;
            target[$"{name}.lora_B.weight"] = module.LoraB(adapterName).weight!;
        }
        var source = new Dictionary<string, Tensor>(LoraWeights, StringComparer.Ordinal);
        if (head is not null)
        {
            foreach (var (key, tensor) in head) target[key] = tensor;
            foreach (var (key, tensor) in Head) source[key] = tensor;
        }
        StateDictLoader.AssignTensors(target, source, Folder,
            $"adapter '{adapterName}' of BertEncoder {lora.Encoder.Config}{(head is null ? "" : " and the given head")}");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in LoraWeights.Values.Concat(Head.Values)) t.Dispose();
    }
}
