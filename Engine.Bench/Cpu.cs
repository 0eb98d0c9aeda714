using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Engine.Bench;

/// <summary>
/// CPU accounting, to tell the engine's cost from contention: this machine may be shared (other
/// builds and test runs), so every workload reports how busy the machine was besides the bench.
/// </summary>
internal static partial class Cpu
{
    private const int ClockThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    /// <summary>CPU time consumed by the calling thread (Linux), or zero where unavailable.</summary>
    public static TimeSpan ThreadTime()
    {
        if (!OperatingSystem.IsLinux()) return TimeSpan.Zero;
        return ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? TimeSpan.FromTicks((t.Seconds * 10_000_000) + (t.Nanoseconds / 100)) : TimeSpan.Zero;
    }

    /// <summary>The calling thread's CPU time in nanoseconds (Linux), or zero where unavailable.</summary>
    public static long ThreadNanos() =>
        OperatingSystem.IsLinux() && ClockGetTime(ClockThreadCpuTime, out var t) == 0 ? (t.Seconds * 1_000_000_000) + t.Nanoseconds : 0;

    public static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }
}

/// <summary>
/// Machine-wide busy time (from /proc/stat) and the CPU time of our processes over a window: how
/// many cores the bench used and how many other processes took meanwhile.
/// </summary>
internal sealed class CpuWindow
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly (long Busy, long Total) _machine = Machine();
    private readonly TimeSpan _own;
    private readonly int[] _children;

    public CpuWindow(params int[] children)
    {
        _children = children;
        _own = Own(children);
    }

    /// <summary>Cores used by the bench (and its children) and by everything else, over the window.</summary>
    public (double Ours, double Others, double Machine) Stop()
    {
        var seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        var machine = Machine();
        var own = (Own(_children) - _own).TotalSeconds / seconds;
        var total = machine.Total - _machine.Total;
        var busyCores = total <= 0 ? 0 : (double)(machine.Busy - _machine.Busy) / total * Environment.ProcessorCount;
        return (own, Math.Max(0, busyCores - own), busyCores);
    }

    public static string Describe((double Ours, double Others, double Machine) w) =>
        $"bench {w.Ours:F2} cores, other processes {w.Others:F2} cores (of {Environment.ProcessorCount}), load avg {Cpu.LoadAverage()}";

    private static TimeSpan Own(int[] children)
    {
        var t = Process.GetCurrentProcess().TotalProcessorTime;
        foreach (var pid in children) t += ProcessTime(pid);
        return t;
    }

    private static TimeSpan ProcessTime(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return TimeSpan.Zero;
        }
    }

    private static (long Busy, long Total) Machine()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            var idle = v[3] + (v.Length > 4 ? v[4] : 0);
            var total = v.Take(8).Sum();
            return (total - idle, total);
        }
        catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
        {
            return (0, 0);
        }
    }
}

/// <summary>
/// CPU of this process's threads over a window, grouped by thread name (/proc/self/task/*/comm):
/// tells the runtime's own threads (server GC, thread-pool workers, timers) apart. 10 ms resolution.
/// </summary>
internal sealed class ThreadCpuWindow
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly Dictionary<int, (string Name, long Ticks)> _before = Sample();

    public string Stop(int top = 5)
    {
        var seconds = Stopwatch.GetElapsedTime(_start).TotalSeconds;
        var after = Sample();
        var groups = new Dictionary<string, long>();
        foreach (var (tid, (name, ticks)) in after)
        {
            var used = ticks - (_before.TryGetValue(tid, out var b) ? b.Ticks : 0);
            if (used <= 0) continue;
            var group = Group(name);
            groups[group] = groups.GetValueOrDefault(group) + used;
        }

        return string.Join(", ", groups.OrderByDescending(g => g.Value).Take(top)
            .Select(g => $"{g.Key} {g.Value / 100.0 / seconds:F2}"));
    }

    private static string Group(string name) => name switch
    {
        _ when name.StartsWith(".NET TP Worker", StringComparison.Ordinal) => "thread-pool workers",
        _ when name.StartsWith(".NET Server GC", StringComparison.Ordinal) || name.StartsWith(".NET BGC", StringComparison.Ordinal) || name.StartsWith(".NET GC", StringComparison.Ordinal) => "GC threads",
        _ => name,
    };

    private static Dictionary<int, (string, long)> Sample()
    {
        var result = new Dictionary<int, (string, long)>();
        if (!OperatingSystem.IsLinux()) return result;
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var close = stat.LastIndexOf(')');
                var name = stat[(stat.IndexOf('(') + 1)..close];
                var fields = stat[(close + 2)..].Split(' ');
                // utime and stime are fields 14 and 15 of stat; after the name, index 11 and 12.
                var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] = (name, ticks);
            }
            catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException or IndexOutOfRangeException)
            {
                // The thread ended meanwhile.
            }
        }

        return result;
    }
}
