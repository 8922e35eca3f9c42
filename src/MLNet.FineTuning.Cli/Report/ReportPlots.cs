using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;
using OxyPlot.SkiaSharp;
using MLNet.FineTuning.Cli.Evaluation;
using MLNet.FineTuning.Cli.Runs;

namespace MLNet.FineTuning.Cli.Report;

/// <summary>The report's charts, drawn with OxyPlot into PNG bytes.</summary>
internal static class ReportPlots
{
    static readonly OxyColor Train = OxyColor.FromRgb(31, 119, 180), Validation = OxyColor.FromRgb(255, 127, 14), Baseline = OxyColor.FromRgb(150, 150, 150);

    /// <summary>A figure per epoch: training against validation (loss or accuracy), one point per (epoch, training,
    /// validation) triple.</summary>
    public static ReportPicture PerEpoch(string fileName, string title, string axis, IReadOnlyList<(int Epoch, double Train, double? Validation)> epochs)
    {
        var model = Model(title);
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "epoch", MajorStep = Math.Max(1, epochs.Count / 10), MinorStep = 1 });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = axis, MajorGridlineStyle = LineStyle.Dot });
        model.Series.Add(Line("training", Train, epochs.Select(e => new DataPoint(e.Epoch, e.Train))));
        var valid = epochs.Where(e => e.Validation.HasValue).Select(e => new DataPoint(e.Epoch, e.Validation!.Value)).ToList();
        if (valid.Count > 0) model.Series.Add(Line("validation", Validation, valid));
        return new(fileName, title, Png(model, 640, 360));
    }

    /// <summary>The learning rate at each reported step: the schedule as it ran (warm-up, decay).</summary>
    public static ReportPicture LearningRate(IReadOnlyList<(long Step, double Rate)> steps)
    {
        var model = Model("learning rate (the head's; the backbone's is a fixed share of it)");
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Title = "step" });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = "rate", StringFormat = "0.0e0", MajorGridlineStyle = LineStyle.Dot });
        model.Series.Add(Line("rate", Train, steps.Select(s => new DataPoint(s.Step, s.Rate)), markers: false));
        return new("learning-rate.png", "learning rate per step", Png(model, 640, 300));
    }

    /// <summary>The confusion matrix as a heat map: each row (true class) in % of its rows, so small classes show
    /// their errors as clearly as large ones; the counts are in metrics.json.</summary>
    public static ReportPicture Confusion(IReadOnlyList<string> classes, IReadOnlyList<IReadOnlyList<int>> matrix)
    {
        int k = classes.Count;
        var data = new double[k, k];
        for (int t = 0; t < k; t++)
        {
            double total = Math.Max(1, matrix[t].Sum());
            for (int p = 0; p < k; p++) data[p, t] = 100.0 * matrix[t][p] / total;   // [x = predicted, y = true]
        }
        var model = Model("confusion matrix (% of each true class)");
        model.Axes.Add(new LinearColorAxis { Position = AxisPosition.Right, Minimum = 0, Maximum = 100, Palette = OxyPalette.Interpolate(200, OxyColors.White, OxyColor.FromRgb(8, 48, 107)) });
        model.Axes.Add(Categories(AxisPosition.Bottom, "predicted", classes, angle: k > 6 ? -60 : 0));
        model.Axes.Add(Categories(AxisPosition.Left, "true", classes, topDown: true));
        model.Series.Add(new HeatMapSeries
        {
            X0 = 0, X1 = k - 1, Y0 = 0, Y1 = k - 1, Data = data, Interpolate = false, RenderMethod = HeatMapRenderMethod.Rectangles,
            LabelFormatString = k <= 20 ? "0" : null, LabelFontSize = k <= 20 ? 0.3 : 0,
        });
        int side = Math.Clamp(160 + 28 * k, 360, 1400);
        return new("confusion.png", "confusion matrix: rows are the true classes, columns the predicted ones, cells the % of the row", Png(model, side + 80, side));
    }

    /// <summary>Per-class F1 of the fine-tuned model beside the baseline's.</summary>
    public static ReportPicture PerClassF1(ClassificationReport fineTuned, ClassificationReport? baseline)
    {
        var model = Model("F1 per class", legendBelow: true);
        model.Axes.Add(Categories(AxisPosition.Left, "", fineTuned.Classes, topDown: true));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Minimum = 0, Maximum = 1, Title = "F1", MajorGridlineStyle = LineStyle.Dot });
        if (baseline != null) model.Series.Add(Bars("ML.NET baseline", Baseline, baseline.PerClass.Select(c => c.F1)));
        model.Series.Add(Bars("fine-tuned", Train, fineTuned.PerClass.Select(c => c.F1)));
        return new("per-class-f1.png", "F1 per class on the evaluated rows", Png(model, 640, Math.Clamp(80 + 26 * fineTuned.Classes.Count * (baseline != null ? 2 : 1), 240, 2400)));
    }

    /// <summary>Rows per class in the training data.</summary>
    public static ReportPicture ClassCounts(IReadOnlyList<string> classes, IReadOnlyList<int> counts)
    {
        var model = Model("training rows per class");
        model.Axes.Add(Categories(AxisPosition.Left, "", classes, topDown: true));
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Bottom, Minimum = 0, Title = "rows", MajorGridlineStyle = LineStyle.Dot });
        model.Series.Add(Bars("rows", Train, counts.Select(c => (double)c)));
        return new("class-counts.png", "training rows per class", Png(model, 640, Math.Clamp(80 + 22 * classes.Count, 200, 2000)));
    }

    static PlotModel Model(string title, bool legendBelow = false)
    {
        var model = new PlotModel { Title = title, TitleFontSize = 14, Background = OxyColors.White };
        model.Legends.Add(legendBelow
            ? new Legend { LegendPosition = LegendPosition.BottomCenter, LegendPlacement = LegendPlacement.Outside, LegendOrientation = LegendOrientation.Horizontal }
            : new Legend { LegendPosition = LegendPosition.RightTop, LegendPlacement = LegendPlacement.Inside, LegendBackground = OxyColor.FromAColor(200, OxyColors.White) });
        return model;
    }

    static LineSeries Line(string title, OxyColor color, IEnumerable<DataPoint> points, bool markers = true)
    {
        var line = new LineSeries { Title = title, Color = color, StrokeThickness = 2, MarkerType = markers ? MarkerType.Circle : MarkerType.None, MarkerSize = 3, MarkerFill = color };
        line.Points.AddRange(points);
        return line;
    }

    static BarSeries Bars(string title, OxyColor color, IEnumerable<double> values)
    {
        var bars = new BarSeries { Title = title, FillColor = color, StrokeThickness = 0 };
        bars.Items.AddRange(values.Select(v => new BarItem { Value = v }));
        return bars;
    }

    /// <param name="topDown">The first class at the top of a vertical axis, as tables and the matrix read.</param>
    static CategoryAxis Categories(AxisPosition position, string title, IEnumerable<string> labels, double angle = 0, bool topDown = false)
    {
        var axis = new CategoryAxis { Position = position, Title = title, Angle = angle, GapWidth = 0.3 };
        if (topDown) (axis.StartPosition, axis.EndPosition) = (1, 0);
        axis.Labels.AddRange(labels.Select(l => l.Length > 24 ? l[..23] + "…" : l));
        return axis;
    }

    static byte[] Png(PlotModel model, int width, int height)
    {
        using var png = new MemoryStream();
        new PngExporter { Width = width, Height = height }.Export(model, png);
        return png.ToArray();
    }
}
