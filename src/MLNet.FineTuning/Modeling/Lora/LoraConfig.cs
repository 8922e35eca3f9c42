namespace MLNet.FineTuning.Modeling.Lora;

/// <summary>
/// The hyper-parameters of one LoRA adapter (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
/// Models"): each targeted <c>Linear</c> computes <c>W·x + b + B·A·dropout(x) · scaling</c>, with A [r, in] and
/// B [out, r] trained and W, b frozen. Defaults are those of PEFT's <c>LoraConfig</c>
/// (<c>src/peft/tuners/lora/config.py</c>); each property names the PEFT field it is saved as.
/// </summary>
internal sealed record LoraConfig
{
    private readonly IReadOnlyList<string> targetModules = LoraTargetModules.Bert;

    /// <summary><c>r</c>: the rank of the update, ≥ 1. Default 8 (PEFT's).</summary>
    public int Rank { get; init; } = 8;

    /// <summary>
    /// <c>lora_alpha</c>: the update is scaled by <c>Alpha / Rank</c> (or <c>Alpha / √Rank</c> with
    /// <see cref="UseRsLora"/>), &gt; 0. Default 8, PEFT's default, so the scaling starts at 1; many recipes use
    /// 2 × <see cref="Rank"/> (16) instead, which acts like a doubled learning rate for the adapter.
    /// </summary>
    public double Alpha { get; init; } = 8;

    /// <summary><c>lora_dropout</c>: dropout on the adapter's input while training (the base path has none), in [0, 1).
    /// Default 0 (PEFT's); 0.05–0.1 is common for small data sets.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// <c>target_modules</c>: which projections get an adapter. Each name selects the modules whose qualified
    /// name equals it or ends with <c>"." + name</c> (PEFT's rule); use the constants of
    /// <see cref="LoraTargetModules"/>. At least one. Default <see cref="LoraTargetModules.Bert"/> (query, value).
    /// Only <c>Linear</c> modules can be targeted.
    /// </summary>
    public IReadOnlyList<string> TargetModules
    {
        get => targetModules;
        // A copy: the caller's list may change later, the adapter it describes must not.
        init => targetModules = value is null ? null! : [.. value];
    }

    /// <summary><c>use_rslora</c>: rank-stabilised scaling <c>Alpha / √Rank</c> (Kalajdzievski 2023, "A Rank Stabilization
    /// Scaling Factor for Fine-Tuning with LoRA"), which keeps higher ranks learning. Default false (<c>Alpha / Rank</c>).</summary>
    public bool UseRsLora { get; init; }

    /// <summary>The factor on <c>B·A·x</c>: <c>Alpha / Rank</c>, or <c>Alpha / √Rank</c> with <see cref="UseRsLora"/>.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Every problem with the values, each naming its property and PEFT field; empty when usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Rank < 1) problems.Add($"Rank (r) must be at least 1; got {Rank}.");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) problems.Add($"Alpha (lora_alpha) must be a finite number greater than 0; got {Alpha}.");
        if (!(Dropout >= 0 && Dropout < 1)) problems.Add($"Dropout (lora_dropout) must be in [0, 1); got {Dropout}.");
        if (TargetModules is null || TargetModules.Count == 0)
            problems.Add("TargetModules (target_modules) must name at least one module, e.g. LoraTargetModules.Query.");
        else if (TargetModules.Any(string.IsNullOrWhiteSpace))
            problems.Add("TargetModules (target_modules) must not contain empty names.");
        return problems;
    }

    /// <summary>Equal values, target names compared in order (the generated equality would compare the lists by reference).</summary>
    public bool Equals(LoraConfig? other) =>
        other is not null && Rank == other.Rank && Alpha.Equals(other.Alpha) && Dropout.Equals(other.Dropout)
        && UseRsLora == other.UseRsLora
        && (TargetModules ?? []).SequenceEqual(other.TargetModules ?? [], StringComparer.Ordinal);

    /// <inheritdoc/>
    public override int GetHashCode() =>
        HashCode.Combine(Rank, Alpha, Dropout, UseRsLora, string.Join("\n", TargetModules ?? []));

    /// <summary>Throws if <see cref="Problems"/> finds any.</summary>
    /// <exception cref="ArgumentException">The message lists every problem by property name.</exception>
    public void Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new ArgumentException("Invalid LoraConfig: " + string.Join(" ", problems));
    }
}
