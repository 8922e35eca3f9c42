namespace MLNet.FineTuning.Modeling.Lora;

/// <summary>
/// Names for <see cref="LoraConfig.TargetModules"/> and the default targets of each architecture. A name
/// selects every module whose qualified name equals it or ends with <c>"." + name</c>, as PEFT's
/// <c>check_target_module_exists</c> does (<c>src/peft/tuners/tuners_utils.py</c>); names are matched against
/// the module names of Hugging Face's <c>BertForSequenceClassification</c> (<c>bert.encoder.layer.0.attention.self.query</c>, …).
/// </summary>
public static class LoraTargetModules
{
    /// <summary>The attention query projection (<c>attention.self.query</c>), hidden → hidden.</summary>
    public const string Query = "query";

    /// <summary>The attention key projection (<c>attention.self.key</c>), hidden → hidden.</summary>
    public const string Key = "key";

    /// <summary>The attention value projection (<c>attention.self.value</c>), hidden → hidden.</summary>
    public const string Value = "value";

    /// <summary>The projection after attention (<c>attention.output.dense</c>), hidden → hidden.</summary>
    public const string AttentionOutput = "attention.output.dense";

    /// <summary>The feed-forward expansion (<c>intermediate.dense</c>), hidden → FFN.</summary>
    public const string Intermediate = "intermediate.dense";

    /// <summary>
    /// Every <c>output.dense</c>: the feed-forward contraction (<c>layer.N.output.dense</c>, FFN → hidden) <b>and</b>
    /// <see cref="AttentionOutput"/>, because a name selects by its ending (PEFT's rule; BERT's names give the
    /// feed-forward output no ending of its own).
    /// </summary>
    public const string Output = "output.dense";

    /// <summary>BERT's default: query and value, as in the LoRA paper and PEFT's table (<c>"bert": ["query", "value"]</c>,
    /// <c>TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING</c> in <c>src/peft/utils/constants.py</c>).</summary>
    public static IReadOnlyList<string> Bert { get; } = [Query, Value];

    /// <summary>Every linear layer of a BERT encoder layer: query, key, value, both <see cref="Output"/> projections and
    /// <see cref="Intermediate"/> (PEFT's <c>"all-linear"</c> on BERT, written as names). The text classifier's default:
    /// on the quality suite it beat query + value by 0.9 points on average over five text sets and three seeds
    /// (docs/quality.md, "Text options").</summary>
    public static IReadOnlyList<string> AllLinear { get; } = [Query, Key, Value, Output, Intermediate];

    /// <summary>The default targets by Hugging Face <c>model_type</c>; one table, like PEFT's.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Defaults { get; } =
        new Dictionary<string, IReadOnlyList<string>> { ["bert"] = Bert };

    /// <summary>Whether the target <paramref name="target"/> selects the module named <paramref name="moduleName"/>:
    /// equal, or a suffix after a dot (PEFT's <c>check_target_module_exists</c> for a list of names).</summary>
    public static bool Matches(string target, string moduleName) =>
        moduleName == target || moduleName.EndsWith("." + target, StringComparison.Ordinal);
}
