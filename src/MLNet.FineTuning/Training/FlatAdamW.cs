using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLNet.FineTuning.Training;

/// <summary>
/// AdamW over flat buffers: the parameters, their gradients and both moment estimates of a parameter group live as
/// views in four buffers of the group's total size, so that one step is a handful of operations over whole buffers
/// instead of a dozen per parameter. TorchSharp's optimizers run that per-parameter loop from C#, one native call per
/// operation: for LoRA's many small adapters that overhead is the whole step (7.6× faster flat on a CPU; ResNet-18's
/// large tensors, bound by memory traffic, 1.27× with the CPU update in cache-sized chunks; docs/benchmarks.md, "The AdamW
/// step alone"), and on a GPU each call
/// is a kernel launch; PyTorch's <c>foreach</c>/<c>fused</c> AdamW and apex's flat master buffer avoid the same cost. The arithmetic is TorchSharp's AdamW, element for element and in the same order; the state objects are
/// its own (the moments are views into the buffers), so checkpoints keep their format.
/// </summary>
/// <remarks>
/// <para>Each parameter is moved into its group's buffer once, at construction, keeping its strides (a channels-last
/// kernel stays channels-last); a gradient that autograd allocates is copied into the buffer at the next step and the
/// buffer's view becomes the parameter's gradient, into which later backward passes accumulate in place. A parameter
/// without a gradient (frozen, or unused this step) is skipped, as TorchSharp's AdamW skips it; the update runs over the
/// runs of consecutive parameters that have one and share a step count (their bias corrections match).</para>
/// <para>Every number handed to libtorch is an explicit <see cref="Scalar"/> kept referenced until the native call has
/// returned: TorchSharp 0.107 turns a <c>double</c> argument into a <see cref="Scalar"/> that only its finalizer frees,
/// and a collection started by another thread (the image batch producer allocates on its own) could free it while
/// libtorch still reads it ("Expected false to be true ... Scalar.h"; reproduced and measured in
/// docs/scalar-lifetime.md).</para>
/// </remarks>
internal sealed class FlatAdamW : AdamW
{
    /// <summary>One parameter group's buffers and where each parameter lies in them.</summary>
    private sealed class FlatGroup(Parameter[] parameters, long[] offsets, Tensor weights, Tensor gradients, Tensor expAvg, Tensor expAvgSq) : IDisposable
    {
        public readonly Parameter[] Parameters = parameters;
        public readonly long[] Offsets = offsets;   // element offset of parameter i; Offsets[^1] is the total
        public readonly Tensor Weights = weights, Gradients = gradients, ExpAvg = expAvg, ExpAvgSq = expAvgSq;
        /// <summary>Whether parameter i's gradient is the buffer's view (as of the last step).</summary>
        public readonly bool[] Adopted = new bool[parameters.Length];

        public Tensor ViewOf(Tensor buffer, int i) => buffer.as_strided(Parameters[i].shape, Parameters[i].stride(), Offsets[i]);

        public void Dispose()
        {
            Weights.Dispose();
            Gradients.Dispose();
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }

    private readonly Dictionary<ParamGroup, FlatGroup> flat = [];

    /// <summary>Each group's parameters with their element offsets (the last one the group's size), its weights buffer
    /// and its gradients buffer: what <see cref="MixedPrecision"/> lays its bf16 copies out by, so that a copy between
    /// them is one operation per group.</summary>
    internal IEnumerable<(Parameter[] Parameters, long[] Offsets, Tensor Weights, Tensor Gradients)> Buffers =>
        flat.Values.Select(f => (f.Parameters, f.Offsets, f.Weights, f.Gradients));

    /// <summary>Makes <paramref name="parameter"/>'s gradient its view of the group's gradients buffer (what it is after a
    /// step anyway), so that writing the buffer writes the gradient.</summary>
    internal void GradientIsBufferView(Parameter parameter)
    {
        foreach (var f in flat.Values)
        {
            int i = Array.FindIndex(f.Parameters, p => ReferenceEquals(p, parameter));
            if (i < 0) continue;
            parameter.grad = f.ViewOf(f.Gradients, i);
            f.Adopted[i] = true;
            return;
        }
        throw new ArgumentException("Not one of this optimizer's parameters.", nameof(parameter));
    }

    public FlatAdamW(IEnumerable<ParamGroup> groups, double lr, double weightDecay)
        : base(groups, lr: lr, weight_decay: weightDecay)
    {
        using var _ = no_grad();
        foreach (ParamGroup group in _parameter_groups) flat[group] = Flatten(group);
    }

    private FlatGroup Flatten(ParamGroup group)
    {
        var parameters = group.Parameters.ToArray();
        if (parameters.Length == 0) throw new ArgumentException("An empty parameter group.");
        var first = parameters[0];
        var offsets = new long[parameters.Length + 1];
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (p.dtype != first.dtype || p.device.ToString() != first.device.ToString())
                throw new ArgumentException($"FlatAdamW: a parameter group mixes {first.dtype} on {first.device} with {p.dtype} on {p.device}.");
            if (!IsDense(p.shape, p.stride()))
                throw new ArgumentException($"FlatAdamW: parameter {i} of shape [{string.Join(", ", p.shape)}] overlaps itself or has gaps (strides [{string.Join(", ", p.stride())}]).");
            offsets[i + 1] = offsets[i] + p.numel();
        }
        long total = offsets[^1];
        var weights = empty(total, dtype: first.dtype, device: first.device);
        var g = new FlatGroup(parameters, offsets, weights, zeros(total, dtype: first.dtype, device: first.device),
                              zeros(total, dtype: first.dtype, device: first.device), zeros(total, dtype: first.dtype, device: first.device));
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            using (var view = g.ViewOf(weights, i))
            {
                view.copy_(p);
                p.set_(view);
            }
            // The state's moments become views too (they are zeros, as AdamW made them); a gradient that already exists
            // is adopted at the first step.
            ((State)_state[p.Handle]).Dispose();
            _state[p.Handle] = new FlatState(p, g.ViewOf(g.ExpAvg, i), g.ViewOf(g.ExpAvgSq, i));
        }
        return g;
    }

    /// <summary>A parameter's step count and moments (views into the group's buffers), written in the format of
    /// TorchSharp's <c>AdamW.State</c> (sealed, so not reused) with the moments as contiguous copies: a channels-last
    /// kernel's moments are not contiguous, and TorchSharp refuses to write those.</summary>
    private sealed class FlatState(Parameter parameter, Tensor expAvg, Tensor expAvgSq) : OptimizerState(parameter), IDisposable
    {
        public long Step;
        public readonly Tensor ExpAvg = expAvg, ExpAvgSq = expAvgSq;

        public override void SaveStateDict(BinaryWriter writer)
        {
            writer.Write(Step);
            using (var m = ExpAvg.contiguous()) m.Save(writer);
            using (var v = ExpAvgSq.contiguous()) v.Save(writer);
            writer.Write(false);   // no AMSGrad maximum
        }

        public override void LoadStateDict(BinaryReader reader)
        {
            Step = reader.ReadInt64();
            foreach (var moment in new[] { ExpAvg, ExpAvgSq })
            {
                using var read = zeros(moment.shape, dtype: moment.dtype, device: moment.device);
                read.Load(reader);
                using var _ = no_grad();
                moment.copy_(read);
            }
            if (reader.ReadBoolean()) throw new InvalidDataException("The optimizer state holds an AMSGrad maximum; FlatAdamW implements plain AdamW.");
        }

        public override void LoadStateDict(OptimizerState source)
        {
            var other = (FlatState)source;
            Step = other.Step;
            using var _ = no_grad();
            ExpAvg.copy_(other.ExpAvg);
            ExpAvgSq.copy_(other.ExpAvgSq);
        }

        public override bool ApproximatelyEquals(OptimizerState other) =>
            other is FlatState o && Step == o.Step && ExpAvg.allclose(o.ExpAvg) && ExpAvgSq.allclose(o.ExpAvgSq);

        /// <summary>Made zero by <see cref="Flatten"/>; nothing to set from the options.</summary>
        public override void Initialize(OptimizerOptions options) { }

        /// <summary>The moments are views into the group's buffers, which stay where the parameters are.</summary>
        public override void to(Device device)
        {
            if (ExpAvg.device.ToString() != device.ToString())
                throw new NotSupportedException("FlatAdamW's state stays on its parameters' device; create the optimizer after moving the model.");
        }

        public void Dispose()
        {
            ExpAvg.Dispose();
            ExpAvgSq.Dispose();
        }
    }

    /// <summary>True when the strides lay the elements out without gaps or overlaps, in some order of the dimensions
    /// (contiguous, channels-last, any permutation of a contiguous tensor): then the view over numel elements of a buffer
    /// holds exactly the tensor.</summary>
    internal static bool IsDense(long[] shape, long[] strides)
    {
        long expected = 1;
        foreach (int d in Enumerable.Range(0, shape.Length).Where(d => shape[d] != 1).OrderBy(d => strides[d]))
        {
            if (strides[d] != expected) return false;
            expected *= shape[d];
        }
        return true;
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        var o = (Options)group.Options;
        if (o.amsgrad == true || o.maximize == true) throw new NotSupportedException("FlatAdamW implements plain AdamW only.");
        var f = flat[group];
        var has = Adopt(f);
        for (int i = 0; i < f.Parameters.Length; i++)
            if (has[i]) ((FlatState)_state[f.Parameters[i].Handle]).Step += 1;
        for (int start = 0; start < has.Length;)
        {
            if (!has[start]) { start++; continue; }
            long step = ((FlatState)_state[f.Parameters[start].Handle]).Step;
            int end = start + 1;
            while (end < has.Length && has[end] && ((FlatState)_state[f.Parameters[end].Handle]).Step == step) end++;
            UpdateInChunks(f, f.Offsets[start], f.Offsets[end] - f.Offsets[start], step, o);
            start = end;
        }
    }, closure);

    /// <summary>Which parameters of the group have a gradient; one that autograd allocated (or a caller set) is copied into
    /// the group's buffer, whose view becomes the parameter's gradient. Idempotent: adopted gradients stay as they are.</summary>
    private static bool[] Adopt(FlatGroup f)
    {
        var has = new bool[f.Parameters.Length];
        IntPtr gradientStorage = TensorStorage.Start(f.Gradients);
        for (int i = 0; i < f.Parameters.Length; i++)
        {
            var p = f.Parameters[i];
            using var grad = p.grad;
            has[i] = grad is not null;
            f.Adopted[i] = has[i] && TensorStorage.Start(grad!) == gradientStorage;
            if (has[i] && !f.Adopted[i])
            {
                var view = f.ViewOf(f.Gradients, i);
                view.copy_(grad!);
                p.grad = view;
                f.Adopted[i] = true;
            }
        }
        return has;
    }

    /// <summary>
    /// Clips the gradients' global L2 norm to <paramref name="maxNorm"/> over the flat gradient buffers, as
    /// <c>nn.utils.clip_grad_norm_</c> does over the parameters' gradients (each scaled by maxNorm / (norm + 1e-6) when that
    /// is below 1), in a few operations per group instead of two per parameter: on a GPU about 140 kernel launches fewer
    /// per ResNet-18 step (docs/benchmarks.md, "The AdamW step alone"). The squares add up in another grouping, so the norm
    /// agrees with TorchSharp's to rounding. A parameter without a gradient has zeros in the buffer (<see cref="zero_grad"/>
    /// clears it after every step) and adds nothing. Returns the norm, read back to the host (the loop stops on a
    /// non-finite one).
    /// </summary>
    public double ClipGradientNorm(double maxNorm)
    {
        double norm;
        using (var scope = NewDisposeScope())
        {
            foreach (var f in flat.Values) Adopt(f);
            // The norm of the groups' norms, as TorchSharp takes the norm of the tensors' norms (no temporary the buffers' size).
            norm = stack(flat.Values.Select(f => f.Gradients.norm()).ToArray()).norm().item<float>();
        }
        double coefficient = maxNorm / (norm + 1e-6);
        if (coefficient < 1)
        {
            using Scalar scale = coefficient.ToScalar();
            foreach (var f in flat.Values) f.Gradients.mul_(scale);
        }
        return norm;
    }

    /// <summary>Elements per CPU update chunk: 2²⁰ fp32 values are 4 MB in each of the four buffers, so a chunk's eight
    /// passes stay in a 32 MB last-level cache. One update over ResNet-18's whole 64 MB buffers streamed every pass from
    /// memory and took 38–44 ms against 23–28 ms for TorchSharp's per-parameter loop (whose tensors are at most 9 MB);
    /// docs/benchmarks.md, "The AdamW step alone".</summary>
    private const long CpuChunk = 1L << 20;

    /// <summary><see cref="Update"/> over [offset, offset + length): in cache-sized chunks on the CPU, in one go on a GPU
    /// (where each operation is a kernel launch and the memory is fast).</summary>
    private static void UpdateInChunks(FlatGroup f, long offset, long length, long step, Options o)
    {
        long chunk = f.Weights.device_type == DeviceType.CPU ? CpuChunk : length;
        for (long at = offset; at < offset + length; at += chunk)
            Update(f, at, Math.Min(chunk, offset + length - at), step, o);
    }

    /// <summary>TorchSharp's AdamW update, on the elements [offset, offset + length) of the group's buffers.</summary>
    private static void Update(FlatGroup f, long offset, long length, long step, Options o)
    {
        double beta1 = o.beta1!.Value, beta2 = o.beta2!.Value, eps = o.eps!.Value, lr = o.LearningRate!.Value, decay = o.weight_decay!.Value;
        double correction1 = 1 - Math.Pow(beta1, step), correction2 = 1 - Math.Pow(beta2, step);
        using Scalar keep = (1 - lr * decay).ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar(),
                     oneMinusB1 = (1 - beta1).ToScalar(), oneMinusB2 = (1 - beta2).ToScalar(), epsilon = eps.ToScalar(), one = 1.ToScalar(),
                     root = Math.Sqrt(correction2).ToScalar(), stepSize = (-lr / correction1).ToScalar();
        using var w = f.Weights.narrow(0, offset, length);
        using var g = f.Gradients.narrow(0, offset, length);
        using var m = f.ExpAvg.narrow(0, offset, length);
        using var v = f.ExpAvgSq.narrow(0, offset, length);
        if (lr * decay != 0) w.mul_(keep);   // × 1 changes nothing: skip the pass over the buffer
        m.mul_(b1).add_(g, oneMinusB1);
        v.mul_(b2).addcmul_(g, g, oneMinusB2);
        using var denom = v.sqrt().div_(root).add_(epsilon, one);
        w.addcdiv_(m, denom, stepSize);
    }

    /// <summary>Clears every gradient: the group's buffer at once, and any gradient that is not (yet) a view of it.</summary>
    public override void zero_grad()
    {
        foreach (var f in flat.Values)
        {
            f.Gradients.zero_();
            for (int i = 0; i < f.Parameters.Length; i++)
            {
                if (f.Adopted[i]) continue;
                using var grad = f.Parameters[i].grad;
                grad?.zero_();
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var state in _state.Values) ((FlatState)state).Dispose();
            foreach (var f in flat.Values) f.Dispose();
        }
        _state.Clear();   // AdamW's Dispose would cast each state to its own sealed State
        base.Dispose(disposing);
    }
}
