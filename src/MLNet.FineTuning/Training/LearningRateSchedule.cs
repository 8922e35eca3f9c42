namespace MLNet.FineTuning.Training;

/// <summary>How the learning rate moves over the run (per optimizer step).</summary>
public enum LearningRateSchedule
{
    /// <summary>Linear warm-up from 0 over <c>WarmupFraction</c> of the steps, then cosine decay to 0 (the default;
    /// the recipe of most fine-tuning scripts, e.g. Hugging Face's get_cosine_schedule_with_warmup).</summary>
    WarmupCosine,
    /// <summary>One-cycle (Smith &amp; Topin 2017, PyTorch's OneCycleLR defaults): from LR/25 up to LR over
    /// <c>WarmupFraction</c> of the steps (cosine), then cosine down to LR/(25·10⁴).</summary>
    OneCycle,
    /// <summary>Constant learning rate.</summary>
    Constant,
}

internal static class LearningRateScheduleMath
{
    /// <summary>Multiplier of the base learning rate at <paramref name="step"/> (0-based) of <paramref name="total"/>.</summary>
    public static double Factor(LearningRateSchedule schedule, long step, long total, double warmupFraction)
    {
        total = Math.Max(1, total);
        double t = Math.Clamp((double)step / total, 0, 1);
        double w = Math.Clamp(warmupFraction, 0, 1);
        switch (schedule)
        {
            case LearningRateSchedule.WarmupCosine:
                long warmSteps = (long)Math.Round(w * total);
                if (step < warmSteps) return (step + 1.0) / warmSteps;
                double p = (double)(step - warmSteps) / Math.Max(1, total - warmSteps);
                return 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(p, 0, 1)));
            case LearningRateSchedule.OneCycle:
                const double divFactor = 25, finalDivFactor = 1e4;   // PyTorch OneCycleLR defaults
                double start = 1 / divFactor, end = start / finalDivFactor;
                if (w > 0 && t < w) return Cosine(start, 1, t / w);
                return Cosine(1, end, w >= 1 ? 1 : (t - w) / (1 - w));
            default:
                return 1;
        }
    }

    private static double Cosine(double from, double to, double p) => to + (from - to) * 0.5 * (1 + Math.Cos(Math.PI * p));
}
