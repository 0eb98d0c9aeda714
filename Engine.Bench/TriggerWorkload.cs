using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Bench;

/// <summary>
/// Workload 1: ticks through one shard holding the resting conditional orders, against a naive scan
/// of the same orders; then the same through the full runtime (EngineSilo, PriceService, journal).
/// </summary>
internal static class TriggerWorkload
{
    public static async Task RunAsync(BenchArgs a, Report report)
    {
        var quoteMode = a.IndexOnly ? "index only (last and mark unset)" : "last = index = mark, moving together";
        Console.WriteLine($"{a.Orders:N0} resting conditional orders over {Market.Count} symbols and {a.Accounts:N0} accounts in ONE ShardGrains; "
            + $"quote per tick: {quoteMode}; random walk seed {a.Seed + 1}");

        var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
        PrintMix(orders);
        var venue = new FirstTriggerVenue(0.0005m);
        var shard = ShardSetup.NewShard(venue: venue);
        ShardSetup.OpenAccounts(shard, a.Accounts);
        ShardSetup.PrimeQuotes(shard);
        var watch = Stopwatch.StartNew();
        var cpu0 = Cpu.ThreadTime();
        var window = new CpuWindow();
        var numbers = ShardSetup.Place(shard, orders, a.Accounts);
        var setupCpu = Cpu.ThreadTime() - cpu0;
        Console.WriteLine($"setup: placed {numbers.Length:N0} orders with Execute(PlaceOrder) in {watch.Elapsed.TotalSeconds:F1} s "
            + $"({numbers.Length / watch.Elapsed.TotalSeconds:N0}/s wall, {numbers.Length / setupCpu.TotalSeconds:N0} per thread-CPU-second); "
            + $"trigger-book entries: {shard.TriggerCount:N0}; {CpuWindow.Describe(window.Stop())}");
        var naive = new NaiveTriggerScan(orders, numbers);
        orders = null;

        var walk = new RandomWalk(a.Seed + 1);
        var runner = new ShardTickRunner(shard, a.IndexOnly, venue);
        int[] symbols = [];
        decimal[] prices = [];

        // 1. The naive scan and the shard on the same prefix of the stream: the naive scan is timed, the
        //    shard's triggers are recorded, and both must fire exactly the same orders.
        var naiveRates = new List<double>();
        var naiveCpuRates = new List<double>();
        var engineTriggered = new List<long>();
        naive.Fired = [];
        var prefix = 0;
        for (var rep = 0; rep < a.Reps; rep++)
        {
            walk.Next(a.NaiveTicks, ref symbols, ref prices);
            runner.Run(symbols, prices, a.NaiveTicks, latencies: null, triggered: engineTriggered);
            var start = Stopwatch.GetTimestamp();
            var naiveCpu = Cpu.ThreadTime();
            for (var i = 0; i < a.NaiveTicks; i++) naive.OnTick(symbols[i], prices[i], a.IndexOnly);
            naiveRates.Add(a.NaiveTicks / Stopwatch.GetElapsedTime(start).TotalSeconds);
            naiveCpuRates.Add(a.NaiveTicks / (Cpu.ThreadTime() - naiveCpu).TotalSeconds);
            prefix += a.NaiveTicks;
        }

        var same = new HashSet<long>(engineTriggered).SetEquals(naive.Fired) && engineTriggered.Count == naive.Fired.Count;
        Console.WriteLine($"check: over the first {prefix:N0} ticks the shard triggered {engineTriggered.Count:N0} orders and the naive scan "
            + $"{naive.Fired.Count:N0}: {(same ? "the same orders" : "DIFFERENT ORDERS (semantics differ!)")}; "
            + $"trailing activations: shard {runner.Activations:N0}, naive {naive.Activations:N0}");

        // 2. Warm-up (tiered JIT), then the measured repetitions: an untimed stretch for throughput
        //    and a stretch with a timestamp pair around every OnPrices for latency.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1.5))
        {
            walk.Next(200_000, ref symbols, ref prices);
            runner.Run(symbols, prices, 200_000, null, null);
        }

        var rates = new List<double>();
        var cpuRates = new List<double>();
        var othersList = new List<double>();
        var fireP50 = new List<double>();
        var cpuP50 = new List<double>();
        List<(double Micros, string What)> slowWall = [];
        List<(double Micros, string What)> slowCpu = [];
        var firstP50 = new List<double>();
        var firstP99 = new List<double>();
        var firstCpuP50 = new List<double>();
        var firstCpuP99 = new List<double>();
        var noVenue = 0;
        var singleP50 = new List<double>();
        var singleP99 = new List<double>();
        var perOrderP50 = new List<double>();
        var breakdown = new Table("rep", "firing ticks", "orders per firing tick p50 / p99 / max", "to first trigger p50", "to first trigger p99", "ticks firing exactly 1", "their p50", "their p99", "firing tick time per order fired, p50");
        var cpuP99 = new List<double>();
        var fireP99 = new List<double>();
        var allP50 = new List<double>();
        var allP99 = new List<double>();
        var allP999 = new List<double>();
        var maxes = new List<double>();
        var firingTicks = new List<double>();
        long totalTriggered = 0;
        long totalTicks = 0;
        var latencies = new long[a.Ticks];
        var table = new Table("rep", "ticks/s (untimed)", "ticks per thread-CPU-s", "other procs (cores)", "ticks firing", "orders triggered", "firing tick p50", "firing tick p99", "firing p50/p99 (thread CPU)", "all ticks p50", "all p99", "all p99.9", "max", "GCs gen0/1/2 (timed)", "GC pause (timed)");
        for (var rep = 0; rep < a.Reps; rep++)
        {
            walk.Next(a.Ticks, ref symbols, ref prices);
            var before = runner.Triggered;
            var cpuWindow = new CpuWindow();
            var threadCpu = Cpu.ThreadTime();
            var start = Stopwatch.GetTimestamp();
            runner.Run(symbols, prices, a.Ticks, null, null);
            var elapsed = Stopwatch.GetElapsedTime(start);
            var cpuRate = a.Ticks / (Cpu.ThreadTime() - threadCpu).TotalSeconds;
            var others = cpuWindow.Stop().Others;
            var rate = a.Ticks / elapsed.TotalSeconds;
            rates.Add(rate);
            cpuRates.Add(cpuRate);
            othersList.Add(others);
            var triggeredUntimed = runner.Triggered - before;

            walk.Next(a.Ticks, ref symbols, ref prices);
            before = runner.Triggered;
            var gc = GcCounts.Now();
            var firing = runner.Run(symbols, prices, a.Ticks, latencies, null);
            var gcDelta = GcCounts.Now() - gc;
            var triggeredTimed = runner.Triggered - before;
            totalTriggered += triggeredUntimed + triggeredTimed;
            totalTicks += 2L * a.Ticks;

            var all = new Latencies(a.Ticks);
            var fire = new Latencies(1024);
            var single = new Latencies(1024);
            var firstTrigger = new Latencies(1024);
            var noVenueCall = 0;
            var perOrder = new Latencies(1024);
            var ordersPerTick = new Latencies(1024);
            for (var i = 0; i < a.Ticks; i++)
            {
                var us = Stats.TicksToMicros(latencies[i] & long.MaxValue);
                all.Add(us);
                if (latencies[i] >= 0) continue;
                fire.Add(us);
                var first = runner.FirstTrigger[i];
                if (first >= 0) firstTrigger.Add(Stats.TicksToMicros(first));
                else noVenueCall++;
                var k = runner.FiredPerTick[i];
                ordersPerTick.Add(k);
                perOrder.Add(us / k);
                if (k == 1) single.Add(us);
            }

            var (s50, s99, _, _) = single.Summary();
            var (t50, t99, _, _) = firstTrigger.Summary();
            firstP50.Add(t50);
            firstP99.Add(t99);
            noVenue += noVenueCall;
            var (o50, _, _, _) = perOrder.Summary();
            var (k50, k99, _, kmax) = ordersPerTick.Summary();
            singleP50.Add(s50);
            singleP99.Add(s99);
            perOrderP50.Add(o50);
            breakdown.Row(rep + 1, fire.Count, $"{k50:N0} / {k99:N0} / {kmax:N0}", Stats.Us(t50), Stats.Us(t99), single.Count, Stats.Us(s50), Stats.Us(s99), Stats.Us(o50));
            slowWall = [.. slowWall.Concat(runner.Slowest).OrderByDescending(x => x.Micros).Take(6)];

            // Third stretch: thread CPU time around every OnPrices, so preemption by other processes drops out.
            walk.Next(a.Ticks, ref symbols, ref prices);
            before = runner.Triggered;
            runner.Run(symbols, prices, a.Ticks, latencies, null, cpuClock: true);
            totalTriggered += runner.Triggered - before;
            totalTicks += a.Ticks;
            var fireCpu = new Latencies(1024);
            var firstCpu = new Latencies(1024);
            for (var i = 0; i < a.Ticks; i++)
            {
                if (latencies[i] >= 0) continue;
                fireCpu.Add((latencies[i] & long.MaxValue) / 1000.0);
                if (runner.FirstTrigger[i] >= 0) firstCpu.Add(runner.FirstTrigger[i] / 1000.0);
            }

            var (c50, c99, _, _) = fireCpu.Summary();
            cpuP50.Add(c50);
            cpuP99.Add(c99);
            var (fc50, fc99, _, _) = firstCpu.Summary();
            firstCpuP50.Add(fc50);
            firstCpuP99.Add(fc99);
            slowCpu = [.. slowCpu.Concat(runner.Slowest).OrderByDescending(x => x.Micros).Take(6)];

            var (p50, p99, p999, max) = all.Summary();
            var (f50, f99, _, _) = fire.Summary();
            allP50.Add(p50);
            allP99.Add(p99);
            allP999.Add(p999);
            maxes.Add(max);
            fireP50.Add(f50);
            fireP99.Add(f99);
            firingTicks.Add(firing);
            table.Row(rep + 1, Stats.Rate(rate), Stats.Rate(cpuRate), others.ToString("F2"), firing, triggeredTimed, Stats.Us(f50), Stats.Us(f99), $"{Stats.Us(c50)} / {Stats.Us(c99)}", Stats.Us(p50), Stats.Us(p99), Stats.Us(p999), Stats.Us(max), gcDelta.Counts, Stats.Ms(gcDelta.Pause.TotalMilliseconds));
        }

        table.Print();
        Console.WriteLine("firing ticks by how many orders they fire (wall-clock pass):");
        breakdown.Print();
        Console.WriteLine("slowest ticks over all repetitions, wall clock: " + string.Join("; ", slowWall.Select(x => $"{Stats.Us(x.Micros)} ({x.What})")));
        Console.WriteLine("slowest ticks over all repetitions, thread CPU: " + string.Join("; ", slowCpu.Select(x => $"{Stats.Us(x.Micros)} ({x.What})")));
        Console.WriteLine($"walk after the run: deviation from start per symbol {string.Join(" ", walk.Deviations().Select(d => d.ToString("P2")))}; "
            + $"{totalTriggered:N0} orders triggered over {totalTicks:N0} measured ticks; {shard.TriggerCount:N0} trigger entries left");

        var naiveMedian = Stats.Median(naiveRates);
        var rateMedian = Stats.Median(rates);
        Console.WriteLine();
        var summary = new Table("figure (median of " + a.Reps + ")", "value", "min .. max", "target");
        summary.Row("ShardGrains.OnPrices throughput (wall clock)", Stats.Rate(rateMedian), Stats.Range(rates, Stats.Rate), ">= 2,000,000/s");
        summary.Row("  same, per second of the loop thread's CPU time", Stats.Rate(Stats.Median(cpuRates)), Stats.Range(cpuRates, Stats.Rate), "(contention-free estimate)");
        summary.Row("tick-to-trigger: OnPrices start to first OrderTriggered, p50", Stats.Us(Stats.Median(firstP50)), Stats.Range(firstP50, Stats.Us), "");
        summary.Row("tick-to-trigger: OnPrices start to first OrderTriggered, p99", Stats.Us(Stats.Median(firstP99)), Stats.Range(firstP99, Stats.Us), "< 50 µs");
        summary.Row("  same p50 / p99 in thread CPU time (no preemption)", $"{Stats.Us(Stats.Median(firstCpuP50))} / {Stats.Us(Stats.Median(firstCpuP99))}", Stats.Range(firstCpuP99, Stats.Us), "(contention-free estimate)");
        summary.Row("whole OnPrices of firing ticks (all fills included), p50", Stats.Us(Stats.Median(fireP50)), Stats.Range(fireP50, Stats.Us), "");
        summary.Row("whole OnPrices of firing ticks (all fills included), p99", Stats.Us(Stats.Median(fireP99)), Stats.Range(fireP99, Stats.Us), "< 50 µs");
        summary.Row("  ticks firing exactly one order: p50 / p99", $"{Stats.Us(Stats.Median(singleP50))} / {Stats.Us(Stats.Median(singleP99))}", Stats.Range(singleP99, Stats.Us), "");
        summary.Row("  firing tick time per order it fired, p50", Stats.Us(Stats.Median(perOrderP50)), Stats.Range(perOrderP50, Stats.Us), "");
        summary.Row("  whole firing tick p50 / p99 in thread CPU time (no preemption)", $"{Stats.Us(Stats.Median(cpuP50))} / {Stats.Us(Stats.Median(cpuP99))}", Stats.Range(cpuP99, Stats.Us), "(contention-free estimate)");
        summary.Row("any tick p50 / p99 / p99.9", $"{Stats.Us(Stats.Median(allP50))} / {Stats.Us(Stats.Median(allP99))} / {Stats.Us(Stats.Median(allP999))}", "", "");
        summary.Row($"naive full scan ({naive.Count:N0} orders per tick, {a.NaiveTicks} ticks/rep)", Stats.Rate(naiveMedian), Stats.Range(naiveRates, Stats.Rate), "");
        summary.Row("  naive, per thread-CPU-second", Stats.Rate(Stats.Median(naiveCpuRates)), Stats.Range(naiveCpuRates, Stats.Rate), "");
        summary.Row("ratio trigger book / naive scan (wall; thread CPU)", $"{rateMedian / naiveMedian:N0}x; {Stats.Median(cpuRates) / Stats.Median(naiveCpuRates):N0}x", "", "");
        summary.Print();
        Console.WriteLine("  firing tick = a tick whose OnPrices produced at least one OrderTriggered. 'first OrderTriggered' = the first fill-price request"
            + " the shard makes to its venue in the tick (a decorated PaperVenue takes a timestamp, or reads the thread's CPU clock in the thread-CPU pass), which follows the first trigger's emit+apply;"
            + $" {noVenue} firing ticks made no venue call (a triggered limit not marketable) and count only in the whole-tick figures.");

        report.Add("trigger", "ticks/s through one ShardGrains (1M orders)", Stats.Rate(rateMedian), ">= 2,000,000/s", rateMedian >= 2_000_000);
        report.Add("trigger", "  same per thread-CPU-second (contention-free)", Stats.Rate(Stats.Median(cpuRates)), ">= 2,000,000/s", Stats.Median(cpuRates) >= 2_000_000);
        report.Add("trigger", "  other processes' CPU during it", $"{Stats.Median(othersList):F2} cores");
        report.Add("trigger", "tick-to-first-trigger p50", Stats.Us(Stats.Median(firstP50)));
        report.Add("trigger", "tick-to-first-trigger p99", Stats.Us(Stats.Median(firstP99)), "< 50 µs", Stats.Median(firstP99) < 50);
        report.Add("trigger", "  tick-to-first-trigger p99, thread CPU (contention-free)", Stats.Us(Stats.Median(firstCpuP99)), "< 50 µs", Stats.Median(firstCpuP99) < 50);
        report.Add("trigger", "whole firing tick p50", Stats.Us(Stats.Median(fireP50)));
        report.Add("trigger", "whole firing tick p99", Stats.Us(Stats.Median(fireP99)), "< 50 µs", Stats.Median(fireP99) < 50);
        report.Add("trigger", "  whole firing tick p99, thread CPU (contention-free)", Stats.Us(Stats.Median(cpuP99)), "< 50 µs", Stats.Median(cpuP99) < 50);
        report.Add("trigger", "  p50 / p99 of ticks firing exactly 1 order", $"{Stats.Us(Stats.Median(singleP50))} / {Stats.Us(Stats.Median(singleP99))}", "p99 < 50 µs", Stats.Median(singleP99) < 50);
        report.Add("trigger", "naive full scan ticks/s", Stats.Rate(naiveMedian));
        report.Add("trigger", "ratio trigger book / naive (wall; CPU)", $"{rateMedian / naiveMedian:N0}x; {Stats.Median(cpuRates) / Stats.Median(naiveCpuRates):N0}x");

        GC.KeepAlive(shard);
        shard = null;
        naive = null;
        runner = null;
        GC.Collect();

        if (a.Runtime) await TriggerRuntimePath.RunAsync(a, report);
    }

    private static void PrintMix(GeneratedOrder[] orders)
    {
        var byKind = orders.GroupBy(o => o.Kind).OrderBy(g => g.Key).Select(g => $"{g.Key} {100.0 * g.Count() / orders.Length:F0}%");
        Console.WriteLine("mix: " + string.Join(", ", byKind) + "; both sides 50/50; triggerBy index 80% / mark 10% / last 10%");
    }
}

/// <summary>Feeds ticks to a shard's OnPrices the way a shard loop does.</summary>
internal sealed class ShardTickRunner(ShardGrains shard, bool indexOnly, FirstTriggerVenue? venue = null)
{
    private readonly List<EngineEvent> _output = new(256);
    private DateTimeOffset _now = ShardSetup.T0;

    /// <summary>The slowest ticks of the last timed run: duration (µs) and what they produced.</summary>
    public List<(double Micros, string What)> Slowest { get; } = [];

    /// <summary>Orders triggered by each tick of the last timed run.</summary>
    public int[] FiredPerTick { get; private set; } = [];

    /// <summary>
    /// From the start of OnPrices to the first trigger (the venue's first call), per tick of the last
    /// timed run: Stopwatch ticks, or thread-CPU nanoseconds in a thread-CPU run; -1 when unknown.
    /// </summary>
    public long[] FirstTrigger { get; private set; } = [];

    public long Triggered { get; private set; }
    public long Activations { get; private set; }
    public long Events { get; private set; }

    /// <summary>
    /// Runs the ticks. With <paramref name="latencies"/>, stores each OnPrices duration (Stopwatch
    /// ticks, or thread-CPU nanoseconds with <paramref name="cpuClock"/>), with the sign bit set when
    /// the tick triggered an order. Returns how many ticks triggered.
    /// </summary>
    public int Run(int[] symbols, decimal[] prices, int count, long[]? latencies, List<long>? triggered, bool cpuClock = false)
    {
        if (latencies is not null)
        {
            Slowest.Clear();
            if (FiredPerTick.Length < count) FiredPerTick = new int[count];
            Array.Clear(FiredPerTick, 0, count);
            if (FirstTrigger.Length < count) FirstTrigger = new long[count];
        }

        _now = _now.AddSeconds(1);
        var now = _now;
        var output = _output;
        var firing = 0;
        for (var i = 0; i < count; i++)
        {
            var p = prices[i];
            var quote = indexOnly ? new Quote(null, p, null) : new Quote(p, p, p);
            var symbol = Market.Symbols[symbols[i]];
            var us = 0.0;
            if (latencies is null)
            {
                shard.OnPrices(symbol, quote, now, output);
            }
            else if (cpuClock)
            {
                venue?.Arm(cpuClock: true);
                var c0 = Cpu.ThreadNanos();
                shard.OnPrices(symbol, quote, now, output);
                latencies[i] = Cpu.ThreadNanos() - c0;
                us = latencies[i] / 1000.0;
                FirstTrigger[i] = venue is { FirstCall: > 0 and var first } ? first - c0 : -1;
            }
            else
            {
                venue?.Arm();
                var t0 = Stopwatch.GetTimestamp();
                shard.OnPrices(symbol, quote, now, output);
                latencies[i] = Stopwatch.GetTimestamp() - t0;
                us = Stats.TicksToMicros(latencies[i]);
                FirstTrigger[i] = venue is { FirstCall: > 0 and var first } ? first - t0 : -1;
            }

            if (us > 200 && (Slowest.Count < 6 || us > Slowest[^1].Micros)) KeepSlow(us, symbol, output);
            if (output.Count == 0) continue;
            var fired = 0;
            foreach (var e in output)
            {
                if (e is OrderTriggered t)
                {
                    fired++;
                    triggered?.Add(t.Order);
                }
                else if (e is TrailingStopActivated)
                {
                    Activations++;
                }
            }

            Events += output.Count;
            output.Clear();
            if (fired == 0) continue;
            Triggered += fired;
            firing++;
            if (latencies is not null)
            {
                latencies[i] |= long.MinValue;
                FiredPerTick[i] = fired;
            }
        }

        return firing;
    }

    private void KeepSlow(double us, string symbol, List<EngineEvent> output)
    {
        var what = output.Count == 0
            ? "no events"
            : string.Join(", ", output.GroupBy(e => e.GetType().Name).Select(g => $"{g.Count()} {g.Key}"));
        Slowest.Add((us, $"{symbol}: {what}"));
        Slowest.Sort((x, y) => y.Micros.CompareTo(x.Micros));
        if (Slowest.Count > 6) Slowest.RemoveAt(6);
    }
}
