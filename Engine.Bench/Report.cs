using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Engine.Bench;

/// <summary>Collects the headline figures of every workload for the closing summary.</summary>
internal sealed class Report
{
    private readonly List<(string Workload, string Figure, string Value, string Target, string Status)> _rows = [];

    /// <summary>A headline figure; <paramref name="met"/> null when it has no target.</summary>
    public void Add(string workload, string figure, string value, string target = "", bool? met = null) =>
        _rows.Add((workload, figure, value, target, met switch { true => "met", false => "MISSED", null => "" }));

    public void Failure(string workload, string message) => _rows.Add((workload, "FAILED", message, "", "MISSED"));

    public void PrintSummary(TimeSpan elapsed)
    {
        Console.WriteLine($"=== summary (medians; total run time {elapsed.TotalSeconds:F0} s) ===");
        var table = new Table("workload", "figure", "median", "target", "status");
        foreach (var r in _rows) table.Row(r.Workload, r.Figure, r.Value, r.Target, r.Status);
        table.Print();
    }
}

/// <summary>A plain text table with columns sized to their content.</summary>
internal sealed class Table(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public Table Row(params object?[] cells)
    {
        _rows.Add(cells.Select(c => c switch
        {
            null => "",
            string s => s,
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => c.ToString() ?? "",
        }).ToArray());
        return this;
    }

    public void Print()
    {
        var widths = headers.Select(h => h.Length).ToArray();
        foreach (var row in _rows)
            for (var i = 0; i < row.Length && i < widths.Length; i++)
                widths[i] = Math.Max(widths[i], row[i].Length);
        var sb = new StringBuilder();
        void Line(IReadOnlyList<string> cells)
        {
            sb.Append("| ");
            for (var i = 0; i < widths.Length; i++)
            {
                var cell = i < cells.Count ? cells[i] : "";
                // Numbers right-aligned, text left-aligned.
                var numeric = cell.Length > 0 && (char.IsDigit(cell[0]) || (cell[0] is '-' or '~' && cell.Length > 1 && char.IsDigit(cell[1])));
                sb.Append(numeric ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i])).Append(" | ");
            }

            sb.Length--;
            sb.AppendLine();
        }

        Line(headers);
        sb.Append('|');
        foreach (var w in widths) sb.Append(new string('-', w + 2)).Append('|');
        sb.AppendLine();
        foreach (var row in _rows) Line(row);
        Console.Write(sb.ToString());
    }
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        if (sorted.Length == 0) return double.NaN;
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>Nearest-rank percentile of an ascending array (p in 0..100).</summary>
    public static double Percentile(ReadOnlySpan<double> sorted, double p)
    {
        if (sorted.Length == 0) return double.NaN;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static double TicksToMicros(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    public static string Rate(double perSecond) => perSecond.ToString("N0", CultureInfo.InvariantCulture) + "/s";

    public static string Us(double micros) => micros >= 10_000
        ? (micros / 1000).ToString("N1", CultureInfo.InvariantCulture) + " ms"
        : micros.ToString(micros < 10 ? "N2" : "N1", CultureInfo.InvariantCulture) + " µs";

    public static string Ms(double millis) => millis.ToString(millis < 10 ? "N2" : "N0", CultureInfo.InvariantCulture) + " ms";

    public static string Bytes(double bytes) => bytes switch
    {
        >= 1 << 30 => (bytes / (1 << 30)).ToString("N2", CultureInfo.InvariantCulture) + " GiB",
        >= 1 << 20 => (bytes / (1 << 20)).ToString("N1", CultureInfo.InvariantCulture) + " MiB",
        _ => bytes.ToString("N0", CultureInfo.InvariantCulture) + " B",
    };

    public static string Range(IReadOnlyCollection<double> values, Func<double, string> format) =>
        values.Count <= 1 ? "" : $"{format(values.Min())} .. {format(values.Max())}";
}

/// <summary>Latency samples of one repetition, in microseconds.</summary>
internal sealed class Latencies
{
    private double[] _values;
    private int _count;

    public Latencies(int capacity = 1024) => _values = new double[Math.Max(16, capacity)];

    public int Count => _count;

    public void Add(double micros)
    {
        if (_count == _values.Length) Array.Resize(ref _values, _values.Length * 2);
        _values[_count++] = micros;
    }

    public void AddRange(Latencies other)
    {
        for (var i = 0; i < other._count; i++) Add(other._values[i]);
    }

    public (double P50, double P99, double P999, double Max) Summary()
    {
        var span = _values.AsSpan(0, _count);
        span.Sort();
        return (Stats.Percentile(span, 50), Stats.Percentile(span, 99), Stats.Percentile(span, 99.9), _count == 0 ? double.NaN : span[^1]);
    }
}

/// <summary>Collections per generation and total GC pause time, to tell GC pauses from work.</summary>
internal readonly record struct GcCounts(int Gen0, int Gen1, int Gen2, TimeSpan Pause)
{
    public static GcCounts Now() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    public static GcCounts operator -(GcCounts a, GcCounts b) => new(a.Gen0 - b.Gen0, a.Gen1 - b.Gen1, a.Gen2 - b.Gen2, a.Pause - b.Pause);

    public string Counts => $"{Gen0}/{Gen1}/{Gen2}";
}
