using System.Globalization;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Modeling.Lora;
using MLNet.FineTuning.Training;

namespace MLNet.FineTuning.Quality;

/// <summary>
/// A recipe: the library defaults with a few options changed, written as <c>key=value</c> pairs joined by commas
/// (<c>defaults</c> changes nothing; <c>baseline</c> is ML.NET's classic trainer instead of fine-tuning, and
/// <c>baseline-fasttree</c> and <c>baseline-lightgbm</c> the regression and classification suites' second ones). The spec is
/// the recipe's name in the results, so a new variant needs no code: <c>--recipes "defaults;crop=1,flip=0;bb=1"</c>.
/// </summary>
internal sealed class Recipe
{
    public const string Defaults = "defaults", Baseline = "baseline";

    /// <summary>A second classic baseline (regression suite): the same features with ML.NET's FastTree (gradient-boosted trees,
    /// its defaults) instead of SDCA, for sets where a linear model on the features is too weak a bar.</summary>
    public const string FastTreeBaseline = "baseline-fasttree";

    /// <summary>The classification suite's second classic baseline: the same features with ML.NET's LightGBM (multiclass
    /// gradient-boosted trees, its defaults) instead of SDCA maximum entropy.</summary>
    public const string LightGbmBaseline = "baseline-lightgbm";

    /// <summary>Keys both estimators take (the shared <see cref="FineTuningOptions"/>).</summary>
    public const string SharedKeys = "lr (LearningRate), bb (BackboneLearningRateFactor), wd (WeightDecay), wu (WarmupFraction), " +
                                     "ls (LabelSmoothing), hd (HeadDropout), ep (Epochs), frz (FreezeBackboneEpochs), sched (cosine|onecycle|constant), " +
                                     "bal (BalanceClasses 0|1), balby (BalanceClassesBy sampling|weights), acc (GradientAccumulationSteps), budget (TimeBudget in minutes: the automatic recipe), " +
                                     "vf (ValidationFraction), ema (WeightAverageDecay), l2sp (PretrainedWeightDecay), wise (WeightInterpolation), " +
                                     "wiseauto (ChooseWeightInterpolation 0|1), llrd (LayerwiseLearningRateDecay), gradual (GradualUnfreezing 0|1)";
    public const string ImageKeys = "aug (Augmentation none|light|strong), crop (RandomCropMinScale), flip (HorizontalFlip 0|1), fbn (FreezeBatchNormStatistics 0|1), " +
                                    "mixup (MixupAlpha), cutmix (CutMixAlpha), jit (ColorJitter), noise (NoiseLevel)";
    public const string TextKeys = "r (Rank), alpha (Alpha), drop (Dropout), targets (qv|qkv|attn|all), pool (mean|cls), full (FullFineTune 0|1), len (MaxSequenceLength), enc (Encoder, e.g. arctic-xs)";

    private readonly Dictionary<string, string> settings;

    public string Name { get; }
    public bool IsBaseline => Name is Baseline or FastTreeBaseline or LightGbmBaseline;

    private Recipe(string name, Dictionary<string, string> settings)
    {
        Name = name;
        this.settings = settings;
    }

    public static Recipe Parse(string spec)
    {
        spec = spec.Trim();
        if (spec is Defaults or Baseline or FastTreeBaseline or LightGbmBaseline or "") return new(spec == "" ? Defaults : spec, []);
        var settings = new Dictionary<string, string>();
        foreach (var pair in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = pair.Split('=', 2);
            if (kv.Length != 2 || kv[1].Length == 0)
                throw new ArgumentException($"Recipe '{spec}': '{pair}' is not key=value. Keys: {SharedKeys}; images: {ImageKeys}; text: {TextKeys}.");
            settings[kv[0]] = kv[1];
        }
        return new(spec, settings);
    }

    public void Apply(ImageFineTuningOptions o)
    {
        foreach (var (key, value) in settings)
        {
            if (ApplyShared(o, key, value)) continue;
            switch (key)
            {
                case "hd": o.HeadDropout = Number(key, value); break;
                case "aug": o.Augmentation = Enum.TryParse<ImageAugmentationPolicy>(value, ignoreCase: true, out var a) ? a : throw Bad(key, value, "none, light or strong"); break;
                case "crop": o.RandomCropMinScale = Number(key, value); break;
                case "flip": o.HorizontalFlip = Flag(key, value); break;
                case "fbn": o.FreezeBatchNormStatistics = Flag(key, value); break;
                case "mixup": o.MixupAlpha = Number(key, value); break;
                case "cutmix": o.CutMixAlpha = Number(key, value); break;
                case "jit": o.ColorJitter = Number(key, value); break;
                case "noise": o.NoiseLevel = Number(key, value); break;
                default: throw Unknown(key, ImageKeys);
            }
        }
    }

    public void Apply(TextFineTuningOptions o)
    {
        foreach (var (key, value) in settings)
        {
            if (ApplyShared(o, key, value)) continue;
            switch (key)
            {
                case "hd": o.HeadDropout = Number(key, value); break;
                case "r": o.Rank = (int)Number(key, value); break;
                case "alpha": o.Alpha = Number(key, value); break;
                case "drop": o.Dropout = Number(key, value); break;
                case "full": o.FullFineTune = Flag(key, value); break;
                case "len": o.MaxSequenceLength = (int)Number(key, value); break;
                case "enc": o.Encoder = value; break;
                case "pool": o.Pooling = value == "cls" ? TextPooling.Cls : value == "mean" ? TextPooling.Mean : throw Bad(key, value, "mean or cls"); break;
                case "targets":
                    o.TargetModules = value switch
                    {
                        "qv" => [LoraTargetModules.Query, LoraTargetModules.Value],
                        "qkv" => [LoraTargetModules.Query, LoraTargetModules.Key, LoraTargetModules.Value],
                        "attn" => [LoraTargetModules.Query, LoraTargetModules.Key, LoraTargetModules.Value, LoraTargetModules.AttentionOutput],
                        "all" => LoraTargetModules.AllLinear,
                        _ => throw Bad(key, value, "qv, qkv, attn or all"),
                    };
                    break;
                default: throw Unknown(key, TextKeys);
            }
        }
    }

    /// <summary>A key that changes the profile's epochs wins over the profile.</summary>
    public int? Epochs => settings.TryGetValue("ep", out var v) ? (int)Number("ep", v) : null;

    private static bool ApplyShared(FineTuningOptions o, string key, string value)
    {
        switch (key)
        {
            case "lr": o.LearningRate = Number(key, value); return true;
            case "bb": o.BackboneLearningRateFactor = Number(key, value); return true;
            case "wd": o.WeightDecay = Number(key, value); return true;
            case "wu": o.WarmupFraction = Number(key, value); return true;
            case "ls": o.LabelSmoothing = Number(key, value); return true;
            case "ep": o.Epochs = (int)Number(key, value); return true;
            case "frz": o.FreezeBackboneEpochs = (int)Number(key, value); return true;
            case "bal": o.BalanceClasses = Flag(key, value); return true;
            case "balby":
                o.BalanceClassesBy = value switch
                {
                    "sampling" => ClassBalance.Sampling,
                    "weights" => ClassBalance.LossWeights,
                    _ => throw Bad(key, value, "sampling or weights"),
                };
                return true;
            case "acc": o.GradientAccumulationSteps = (int)Number(key, value); return true;
            case "budget": o.TimeBudget = TimeSpan.FromMinutes(Number(key, value)); return true;
            case "vf": o.ValidationFraction = Number(key, value); return true;
            case "ema": o.WeightAverageDecay = Number(key, value); return true;
            case "l2sp": o.PretrainedWeightDecay = Number(key, value); return true;
            case "wise": o.WeightInterpolation = Number(key, value); return true;
            case "wiseauto": o.ChooseWeightInterpolation = Flag(key, value); return true;
            case "llrd": o.LayerwiseLearningRateDecay = Number(key, value); return true;
            case "gradual": o.GradualUnfreezing = Flag(key, value); return true;
            case "sched":
                o.Schedule = value switch
                {
                    "cosine" => LearningRateSchedule.WarmupCosine,
                    "onecycle" => LearningRateSchedule.OneCycle,
                    "constant" => LearningRateSchedule.Constant,
                    _ => throw Bad(key, value, "cosine, onecycle or constant"),
                };
                return true;
            default: return false;
        }
    }

    private static double Number(string key, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw Bad(key, value, "a number");

    private static bool Flag(string key, string value) => value switch { "1" or "true" => true, "0" or "false" => false, _ => throw Bad(key, value, "0 or 1") };

    private static ArgumentException Bad(string key, string value, string expected) => new($"Recipe key '{key}': '{value}' is not {expected}.");

    private static ArgumentException Unknown(string key, string kindKeys) => new($"Unknown recipe key '{key}'. Keys: {SharedKeys}; {kindKeys}.");
}
