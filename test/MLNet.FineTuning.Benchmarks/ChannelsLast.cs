using System.Diagnostics;
using MLNet.FineTuning.Modeling;
using MLNet.FineTuning.Pretrained;
using MLNet.FineTuning.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Layout = MLNet.FineTuning.Modeling.ChannelsLast;

namespace MLNet.FineTuning.Benchmarks;

/// <summary>
/// `-- channels-last [--gpu ID] [--image-size 64] [--batch-size 32] [--steps 20]`: whether the channels-last layout is
/// right and faster for ResNet-18 on this libtorch and device, before the image path adopts it (issue 10). TorchSharp
/// 0.107 has no <c>memory_format</c>, but an NCHW-shaped tensor with NHWC strides is channels-last to libtorch
/// (the library's <see cref="Modeling.ChannelsLast"/>, whose helpers this program uses), and a kernel takes that layout in
/// place. Every check runs in a dispose scope: a temporary outside one can be finalized mid-call (docs/scalar-lifetime.md).
/// 1. Correctness: each strided convolution shape of ResNet-18 alone, and the whole pretrained network's features,
///    contiguous against channels-last (same weights, same input): the largest difference.
/// 2. Speed: training steps (forward, cross-entropy, backward, FlatAdamW) of each layout in turn, twice, median img/s.
/// </summary>
internal static class ChannelsLast
{
    public const string Usage = "usage: benchmarks channels-last [--gpu ID] [--image-size 64] [--batch-size 32] [--steps 20]";

    public static int Run(string[] args)
    {
        int Arg(string name, int fallback) => args.SkipWhile(a => a != name).Skip(1).Select(int.Parse).FirstOrDefault(fallback);
        int size = Arg("--image-size", 64), batch = Arg("--batch-size", 32), steps = Arg("--steps", 20);
        var device = args.Contains("--gpu") ? new Device(DeviceType.CUDA, Arg("--gpu", 0)) : CPU;
        Console.WriteLine($"channels-last for ResNet-18 on {device}, {get_num_threads()} threads, {size} px, batch {batch}");
        using var _ = no_grad();

        // 1. Correctness, convolution by convolution: ResNet-18's strided shapes at the sizes they see.
        manual_seed(1);
        foreach (var (cin, cout, k, at) in new[] { (3, 64, 7, size), (64, 128, 3, size / 4), (64, 128, 1, size / 4), (128, 256, 3, size / 8),
                                                  (128, 256, 1, size / 8), (256, 512, 3, size / 16), (256, 512, 1, size / 16) })
        {
            using var scope = NewDisposeScope();
            using var conv = nn.Conv2d(cin, cout, k, stride: 2, padding: k / 2, bias: false).to(device);
            var x = randn([2, cin, at, at], device: device);
            var plain = conv.forward(x);
            var laidOut = conv.forward(Layout.Of(x));
            Console.WriteLine($"  conv {cin,3}->{cout,3} {k}x{k} stride 2 at {at,3} px: largest difference {(plain - laidOut).abs().max().item<float>(),10:G3} (values up to {plain.abs().max().item<float>():G3})");
        }
        // ... and the whole pretrained network.
        using var reference = Network(device, channelsLast: false);
        using var network = Network(device, channelsLast: true);
        reference.eval();
        network.eval();
        using var images = randn([batch, 3, size, size], device: device);
        using (NewDisposeScope())
        {
            var expected = reference.forward(images);
            var actual = network.forward(Layout.Of(images));
            Console.WriteLine($"  ResNet-18 features, eval mode: largest difference {(expected - actual).abs().max().item<float>():G3} (values up to {expected.abs().max().item<float>():G3})");
        }

        // 2. Speed: the two layouts' training steps in turn, twice each (the glibc thresholds as Fit sets them on the CPU).
        if (device.type == DeviceType.CPU) NativeHeap.TuneForTraining(null);
        var rates = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        using (enable_grad())
        {
            foreach (bool channelsLast in new[] { false, true, false, true })
            {
                using var model = Network(device, channelsLast);
                model.train();
                using var head = nn.Linear(model.FeatureCount, 10).to(device);
                using var optimizer = new FlatAdamW([new AdamW.ParamGroup(model.parameters().Concat(head.parameters()), new AdamW.Options { LearningRate = 1e-3, weight_decay = 0.01 })], 1e-3, 0.01);
                using var input = channelsLast ? Layout.Of(images) : images.alias();
                using var labels = randint(0, 10, [batch], device: device);
                var clock = new Stopwatch();
                for (int step = 0; step < steps + 2; step++)
                {
                    clock.Restart();
                    using (NewDisposeScope())
                    {
                        nn.functional.cross_entropy(head.forward(model.forward(input)), labels).backward();
                        optimizer.step();
                        optimizer.zero_grad();
                    }
                    if (device.type == DeviceType.CUDA) cuda.synchronize(device);
                    if (step >= 2) rates[channelsLast].Add(batch / clock.Elapsed.TotalSeconds);
                    if (device.type == DeviceType.CPU) GC.Collect(0);
                }
            }
        }
        double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
        Console.WriteLine($"  training steps, median: contiguous {Median(rates[false]):F1} img/s, channels-last {Median(rates[true]):F1} img/s, ratio {Median(rates[true]) / Median(rates[false]):F2}");
        return 0;
    }

    private static ResNet Network(Device device, bool channelsLast)
    {
        var backbone = (ResNet)PretrainedCatalog.GetImageBackbone(PretrainedCatalog.ResNet18MlNet).CreatePretrained();
        backbone.to(device);
        if (channelsLast) Layout.Apply(backbone);
        return backbone;
    }
}
