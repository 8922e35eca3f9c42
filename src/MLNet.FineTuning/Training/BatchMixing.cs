using TorchSharp;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) for image batches: each training batch is blended with a
/// shuffled copy of itself, by a share λ ~ Beta(α, α) of the whole image (Mixup) or of a box pasted in (CutMix, λ
/// then the area kept), and the loss is λ · CE(y) + (1 − λ) · CE(y shuffled). With both on, each batch takes one of
/// the two at random, as timm does. Draws come from a generator seeded by the run's seed, the epoch and the batch, so
/// a resumed run replays them.
/// </summary>
/// <param name="MixupAlpha">Beta parameter of Mixup; 0 turns it off.</param>
/// <param name="CutMixAlpha">Beta parameter of CutMix; 0 turns it off.</param>
internal sealed record BatchMixing(double MixupAlpha, double CutMixAlpha)
{
    public bool IsOn => MixupAlpha > 0 || CutMixAlpha > 0;

    /// <summary>The mixed images [n, C, H, W] (fp32), the shuffled labels and λ, for batch <paramref name="batch"/>
    /// of <paramref name="epoch"/>.</summary>
    public (Tensor Images, Tensor OtherLabels, double Lambda) Mix(Tensor images, Tensor labels, int seed, int epoch, int batch)
    {
        var rng = new Random(unchecked(seed * 1_000_003 + epoch * 10_007 + batch));
        int n = (int)images.shape[0];
        var order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        using var index = tensor(order.Select(i => (long)i).ToArray(), device: images.device);
        var x = images.to(float32);
        var other = x.index_select(0, index);
        bool cutMix = CutMixAlpha > 0 && (MixupAlpha <= 0 || rng.NextDouble() < 0.5);
        double lambda = Beta(rng, cutMix ? CutMixAlpha : MixupAlpha);
        if (!cutMix)
        {
            using Scalar mine = KeptScalars.Of(lambda), theirs = KeptScalars.Of(1 - lambda);
            return (x.mul(mine).add_(other.mul(theirs), KeptScalars.One), labels.index_select(0, index), lambda);
        }

        // A box of area (1 − λ) of the image, centred anywhere, clipped at the borders; λ becomes the area kept.
        int h = (int)x.shape[2], w = (int)x.shape[3];
        double side = Math.Sqrt(1 - lambda);
        int cy = rng.Next(h), cx = rng.Next(w), bh = (int)(h * side), bw = (int)(w * side);
        int y0 = Math.Clamp(cy - bh / 2, 0, h), y1 = Math.Clamp(cy + bh / 2, 0, h);
        int x0 = Math.Clamp(cx - bw / 2, 0, w), x1 = Math.Clamp(cx + bw / 2, 0, w);
        var box = zeros(1, 1, h, w, device: x.device);
        if (y1 > y0 && x1 > x0) box.narrow(2, y0, y1 - y0).narrow(3, x0, x1 - x0).fill_(KeptScalars.One);
        lambda = 1 - (double)(y1 - y0) * (x1 - x0) / (h * w);
        return (x.mul(box.neg().add_(KeptScalars.One, KeptScalars.One)).add_(other.mul(box), KeptScalars.One), labels.index_select(0, index), lambda);
    }

    /// <summary>A Beta(α, α) draw as G₁ / (G₁ + G₂) of two Gamma(α) draws.</summary>
    internal static double Beta(Random rng, double alpha)
    {
        double a = Gamma(rng, alpha), b = Gamma(rng, alpha);
        return a + b == 0 ? 0.5 : a / (a + b);
    }

    /// <summary>Gamma(k, 1) by Marsaglia and Tsang (2000); for k &lt; 1 through Gamma(k + 1) · U^(1/k).</summary>
    private static double Gamma(Random rng, double k)
    {
        if (k < 1) return Gamma(rng, k + 1) * Math.Pow(rng.NextDouble(), 1 / k);
        double d = k - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                z = Normal(rng);
                v = 1 + c * z;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (Math.Log(u) < 0.5 * z * z + d - d * v + d * Math.Log(v)) return d * v;
        }
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
