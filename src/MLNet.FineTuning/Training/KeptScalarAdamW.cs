using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// TorchSharp's AdamW with the same arithmetic, in the same order, on the same state (checkpoints are unchanged), but
/// every number it hands to libtorch is an explicit <see cref="Scalar"/> that stays referenced until the native call has
/// returned.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 turns each <c>double</c> argument into a <see cref="Scalar"/> whose native memory only its
/// finalizer frees, and passes the raw handle on: once the handle is read the managed object is dead to the JIT, so a
/// garbage collection started by another thread during the native call (the image batch producer allocates on its own
/// thread) can finalize it while libtorch still reads it. The overloads with default arguments do this internally too
/// (<c>add_(Scalar)</c> creates its alpha of 1 that way). Seen twice in the quality suite as
/// "Expected false to be true ... toFloat/toDouble at c10/core/Scalar.h" in <c>addcdiv_</c> and <c>add</c>, and a freed
/// scalar that is read back intact but reused would silently change one step's update. Reproduced and measured in
/// docs/scalar-lifetime.md. One step creates about six scalars per parameter, by far the most of any per-step code.
/// </remarks>
internal sealed class KeptScalarAdamW : AdamW
{
    public KeptScalarAdamW(IEnumerable<ParamGroup> groups, double lr, double weightDecay)
        : base(groups, lr: lr, weight_decay: weightDecay) { }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        double beta1 = o.beta1!.Value, beta2 = o.beta2!.Value, eps = o.eps!.Value, lr = o.LearningRate!.Value, decay = o.weight_decay!.Value;
        if (o.amsgrad == true || o.maximize == true) throw new NotSupportedException("KeptScalarAdamW implements plain AdamW only.");
        using Scalar keep = (1 - lr * decay).ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar(),
                     oneMinusB1 = (1 - beta1).ToScalar(), oneMinusB2 = (1 - beta2).ToScalar(), epsilon = eps.ToScalar(), one = 1.ToScalar();
        foreach (var param in group.Parameters)
        {
            var grad = param.grad;
            if (grad is null) continue;
            var state = (State)_state[param.Handle];
            state.step += 1;
            param.mul_(keep);
            double correction1 = 1 - Math.Pow(beta1, state.step), correction2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(b1).add_(grad, oneMinusB1);
            state.exp_avg_sq.mul_(b2).addcmul_(grad, grad, oneMinusB2);
            using Scalar root = Math.Sqrt(correction2).ToScalar(), stepSize = (-lr / correction1).ToScalar();
            var denom = state.exp_avg_sq.sqrt().div_(root).add_(epsilon, one);
            param.addcdiv_(state.exp_avg, denom, stepSize);
            GC.KeepAlive(grad);
        }
    }, closure);
}
