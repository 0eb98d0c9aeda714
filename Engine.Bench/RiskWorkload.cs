using System.Diagnostics;
using System.Globalization;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Risk;

namespace Engine.Bench;

/// <summary>
/// The trigger workload with the risk controls on against the same workload with them off, side by
/// side in one run: shards that hold the same resting orders (the trigger mix) take the same random
/// walk, repetition after repetition, rotating which goes first.
/// <list type="bullet">
/// <item>off: plain orders; every tick goes straight to <see cref="ShardGrains.OnPrices"/>.</item>
/// <item>on (one shard per <c>--confirmed</c> fraction): that fraction of the stops, stop-limits,
/// take-profits and take-profit-limits (75% of the mix) carries wick protection
/// (<c>triggerConfirmation</c> PT2S), and every tick passes the symbol's circuit breaker (a 5% move
/// within 60 s pauses it for 30 s). As in the engine, where the price service runs the breakers once
/// per tick for all shards on its own thread and sends halts and resumes into the shards' mailboxes,
/// the breakers run over each repetition's ticks first (timed on their own), and the shard's run
/// applies their halts before, and resumes after, the ticks that caused them.</item>
/// </list>
/// The headline is the shard's rate, comparable to the trigger workload's "ticks/s through one shard's
/// grains"; the conservative single-thread figure adds the breakers' time back to it.
/// Every shard sees engine time move by the tick spacing and gets <see cref="ShardGrains.AdvanceTime"/>
/// every 100 ms of it (the runtime's timer), so confirmations end and resolve while ticks go on.
/// </summary>
internal static class RiskWorkload
{
    /// <summary>
    /// Engine time per tick (<c>--tick-spacing-us</c>, default 1 ms: 1,000 index changes a second in one
    /// shard, 100 per symbol, about eight times the simulated feed's rate); the 100 ms timer runs every
    /// 100 ms of it. The walk moves about 2 bp per tick, so the price moves far more during a 2 s
    /// confirmation than a real market's does, and the shorter the spacing, the more often it is back
    /// when the confirmation ends (a failed confirmation puts the order back in the book, where the
    /// next crossing starts another one).
    /// </summary>
    private static TimeSpan TickSpacing = TimeSpan.FromMilliseconds(1);
    private static int TimerEveryTicks = 100;
    private static readonly TimeSpan Confirmation = TimeSpan.FromSeconds(2);
    private static readonly CircuitBreakerSettings Breakers = new(0.05m, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), true);

    public static Task RunAsync(BenchArgs a, Report report)
    {
        TickSpacing = TimeSpan.FromTicks((long)(a.TickSpacingMicros * 10));
        TimerEveryTicks = Math.Max(1, (int)(100_000 / a.TickSpacingMicros));
        var fractions = a.Confirmed;
        Console.WriteLine($"{a.Orders:N0} resting conditional orders (the trigger mix) over {Market.Count} symbols and {a.Accounts:N0} accounts, in {1 + fractions.Length} shards: "
            + $"risk controls off, and on with {string.Join(" / ", fractions.Select(Percent))} of the stops and take-profits wick-protected (PT2S) and a circuit breaker per symbol; "
            + $"the same random walk for all (seed {a.Seed + 1}), {a.Ticks:N0} ticks per repetition, engine time {a.TickSpacingMicros} µs per tick, AdvanceTime every {TimerEveryTicks:N0} ticks");

        var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
        var runs = new List<Run> { new("off", Build("off", orders, a.Accounts), null, a.Seed) };
        foreach (var fraction in fractions)
        {
            var name = $"on {Percent(fraction)}";
            var mix = Protect(orders, fraction, out var count);
            Console.WriteLine($"  '{name}': {count:N0} orders carry a trigger confirmation");
            runs.Add(new Run(name, Build(name, mix, a.Accounts), Market.Symbols.Select(s => new SymbolCircuitBreaker(s, Breakers)).ToArray(), a.Seed));
        }

        orders = null;

        // Warm-up (tiered JIT) of every path.
        var warm = Stopwatch.StartNew();
        while (warm.Elapsed < TimeSpan.FromSeconds(1 + runs.Count))
            foreach (var run in runs)
                run.Step(100_000);

        var ratios = fractions.Select(_ => new List<double>()).ToArray();
        var cpuRatios = fractions.Select(_ => new List<double>()).ToArray();
        var combinedRatios = fractions.Select(_ => new List<double>()).ToArray();
        var breakerNs = new List<double>();
        var headers = new List<string> { "rep", "first" };
        headers.AddRange(runs.Select(r => $"{r.Name} ticks/s"));
        headers.AddRange(runs.Skip(1).Select(r => $"{r.Name} / off"));
        headers.AddRange(runs.Skip(1).Select(r => $"{r.Name} / off (CPU)"));
        headers.AddRange(runs.Skip(1).Select(r => $"{r.Name} / off, breakers on the same thread"));
        headers.AddRange(["breaker ns/tick", "other procs (cores)", "triggered (off; on...)", "confirmations started / failed (on...)"]);
        var table = new Table([.. headers]);
        for (var rep = 0; rep < a.Reps; rep++)
        {
            var window = new CpuWindow();
            var before = runs.Select(r => r.Runner.Counts).ToArray();
            foreach (var run in runs) run.Next(a.Ticks);
            // The price service's part: each 'on' shard's breakers over its ticks (the same walk for all).
            var breakerSeconds = runs.Skip(1).Select(r => r.DecideHalts(a.Ticks)).ToArray();
            breakerNs.Add(breakerSeconds.Min() * 1e9 / a.Ticks);
            // Rotate which goes first, so none always runs on a cooler or warmer cache and machine.
            for (var k = 0; k < runs.Count; k++) runs[(rep + k) % runs.Count].Measure(a.Ticks);
            var others = window.Stop().Others;

            var cells = new List<object?> { rep + 1, runs[rep % runs.Count].Name };
            cells.AddRange(runs.Select(r => Stats.Rate(r.LastWall)));
            for (var i = 1; i < runs.Count; i++)
            {
                ratios[i - 1].Add(runs[i].LastWall / runs[0].LastWall);
                cpuRatios[i - 1].Add(runs[i].LastCpu / runs[0].LastCpu);
                combinedRatios[i - 1].Add(a.Ticks / (a.Ticks / runs[i].LastWall + breakerSeconds[i - 1]) / runs[0].LastWall);
            }

            cells.AddRange(runs.Skip(1).Select((r, i) => ratios[i][^1].ToString("P1", CultureInfo.InvariantCulture)));
            cells.AddRange(runs.Skip(1).Select((r, i) => cpuRatios[i][^1].ToString("P1", CultureInfo.InvariantCulture)));
            cells.AddRange(runs.Skip(1).Select((r, i) => combinedRatios[i][^1].ToString("P1", CultureInfo.InvariantCulture)));
            var done = runs.Select((r, i) => r.Runner.Counts - before[i]).ToArray();
            cells.Add(breakerNs[^1].ToString("F1", CultureInfo.InvariantCulture));
            cells.Add(others.ToString("F2", CultureInfo.InvariantCulture));
            cells.Add(string.Join("; ", done.Select(d => d.Triggered.ToString("N0", CultureInfo.InvariantCulture))));
            cells.Add(string.Join("; ", done.Skip(1).Select(d => $"{d.ConfirmationsStarted:N0} / {d.ConfirmationsFailed:N0}")));
            table.Row([.. cells]);
        }

        table.Print();
        foreach (var run in runs)
        {
            var c = run.Runner.Counts;
            Console.WriteLine($"  '{run.Name}' over the run: {c.Triggered:N0} orders triggered, {c.ConfirmationsStarted:N0} confirmations started, "
                + $"{c.ConfirmationsFailed:N0} failed (the price was back), {c.Halts:N0} halts");
        }

        Console.WriteLine();
        var summary = new Table("figure (median of " + a.Reps + ")", "value", "min .. max", "target");
        summary.Row("ticks/s, risk controls off", Stats.Rate(Stats.Median(runs[0].Walls)), Stats.Range(runs[0].Walls, Stats.Rate), "");
        for (var i = 0; i < fractions.Length; i++)
        {
            var run = runs[i + 1];
            summary.Row($"ticks/s, breakers on, {Percent(fractions[i])} of stops/take-profits wick-protected", Stats.Rate(Stats.Median(run.Walls)), Stats.Range(run.Walls, Stats.Rate), "");
            summary.Row("  on / off (median of the per-repetition ratios)", Stats.Median(ratios[i]).ToString("P1", CultureInfo.InvariantCulture),
                Stats.Range(ratios[i], r => r.ToString("P1", CultureInfo.InvariantCulture)), ">= 80%");
            summary.Row("  same per thread-CPU-second (contention-free)", Stats.Median(cpuRatios[i]).ToString("P1", CultureInfo.InvariantCulture),
                Stats.Range(cpuRatios[i], r => r.ToString("P1", CultureInfo.InvariantCulture)), ">= 80%");
            summary.Row("  conservative: the breakers' time on the shard's thread too", Stats.Median(combinedRatios[i]).ToString("P1", CultureInfo.InvariantCulture),
                Stats.Range(combinedRatios[i], r => r.ToString("P1", CultureInfo.InvariantCulture)), "");
        }

        summary.Row("circuit breakers (the price service's part), per index change", $"{Stats.Median(breakerNs):F1} ns", Stats.Range(breakerNs, v => $"{v:F1} ns"), "");
        summary.Print();

        report.Add("risk", "ticks/s, risk controls off (1M orders)", Stats.Rate(Stats.Median(runs[0].Walls)));
        for (var i = 0; i < fractions.Length; i++)
        {
            var ratio = Stats.Median(ratios[i]);
            report.Add("risk", $"breakers + {Percent(fractions[i])} wick-protected: ticks/s", Stats.Rate(Stats.Median(runs[i + 1].Walls)));
            report.Add("risk", $"  on / off", ratio.ToString("P1", CultureInfo.InvariantCulture), ">= 80%", ratio >= 0.8);
            report.Add("risk", $"  on / off per thread-CPU-second", Stats.Median(cpuRatios[i]).ToString("P1", CultureInfo.InvariantCulture), ">= 80%", Stats.Median(cpuRatios[i]) >= 0.8);
            report.Add("risk", $"  on / off with the breakers on the same thread", Stats.Median(combinedRatios[i]).ToString("P1", CultureInfo.InvariantCulture));
        }

        report.Add("risk", "circuit breaker per index change", $"{Stats.Median(breakerNs):F1} ns");
        foreach (var run in runs) GC.KeepAlive(run.Shard);
        return Task.CompletedTask;
    }

    private static string Percent(double fraction) => fraction.ToString("P0", CultureInfo.InvariantCulture).Replace(" ", "", StringComparison.Ordinal);

    /// <summary>Every n-th stop or take-profit (n = 1 / fraction) gets wick protection.</summary>
    private static GeneratedOrder[] Protect(GeneratedOrder[] orders, double fraction, out int count)
    {
        var eligible = 0;
        var next = 0.0;
        var n = 0;
        var result = orders.Select(o =>
        {
            if (fraction <= 0 || o.Request.Type is not (OrderType.Stop or OrderType.StopLimit or OrderType.TakeProfit or OrderType.TakeProfitLimit)) return o;
            if (eligible++ < next) return o;
            next += 1.0 / fraction;
            n++;
            return o with { Request = o.Request with { TriggerConfirmation = Confirmation } };
        }).ToArray();
        count = n;
        return result;
    }

    private static ShardGrains Build(string name, GeneratedOrder[] orders, int accounts)
    {
        var watch = Stopwatch.StartNew();
        var shard = ShardSetup.NewShard();
        ShardSetup.OpenAccounts(shard, accounts);
        ShardSetup.PrimeQuotes(shard);
        ShardSetup.Place(shard, orders, accounts);
        Console.WriteLine($"  '{name}' shard: {orders.Length:N0} orders placed in {watch.Elapsed.TotalSeconds:F1} s; trigger-book entries {shard.TriggerCount:N0}");
        return shard;
    }

    /// <summary>One shard with its runner, its own copy of the walk, and its measured rates.</summary>
    private sealed class Run(string name, ShardGrains shard, SymbolCircuitBreaker[]? breakers, int seed)
    {
        private readonly RandomWalk _walk = new(seed + 1);
        private readonly List<HaltChange> _halts = [];
        private int[] _symbols = [];
        private decimal[] _prices = [];

        public string Name { get; } = name;
        public ShardGrains Shard { get; } = shard;
        public TimedTickRunner Runner { get; } = new(shard);
        public List<double> Walls { get; } = [];
        public double LastWall { get; private set; }
        public double LastCpu { get; private set; }

        public void Step(int count)
        {
            Next(count);
            DecideHalts(count);
            Runner.Run(_symbols, _prices, count, _halts);
        }

        public void Next(int count) => _walk.Next(count, ref _symbols, ref _prices);

        /// <summary>The price service's part for the next ticks: each tick through its symbol's breaker, the halts it decides. Seconds taken.</summary>
        public double DecideHalts(int count)
        {
            _halts.Clear();
            if (breakers is null) return 0;
            var now = Runner.Now;
            var untilTimer = Runner.UntilTimer;
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < count; i++)
            {
                now += TickSpacing;
                var breaker = breakers[_symbols[i]];
                if (breaker.Observe(now, _prices[i], degraded: false))
                    _halts.Add(new HaltChange(i, breaker.Halt is null, breaker.Symbol, breaker.Halt, breaker.ResumeReason ?? HaltReasons.BreakerClosed));
                if (--untilTimer == 0)
                {
                    untilTimer = TimerEveryTicks;
                    foreach (var b in breakers)
                        if (b.Advance(now))
                            _halts.Add(new HaltChange(i, true, b.Symbol, b.Halt, b.ResumeReason ?? HaltReasons.BreakerClosed));
                }
            }

            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        public void Measure(int count)
        {
            var cpu = Cpu.ThreadTime();
            var start = Stopwatch.GetTimestamp();
            Runner.Run(_symbols, _prices, count, _halts);
            var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            LastWall = count / wall;
            LastCpu = count / (Cpu.ThreadTime() - cpu).TotalSeconds;
            Walls.Add(LastWall);
        }
    }

    /// <summary>What a runner's shard did.</summary>
    private readonly record struct Tally(long Triggered, long ConfirmationsStarted, long ConfirmationsFailed, long Halts)
    {
        public static Tally operator -(Tally a, Tally b) =>
            new(a.Triggered - b.Triggered, a.ConfirmationsStarted - b.ConfirmationsStarted, a.ConfirmationsFailed - b.ConfirmationsFailed, a.Halts - b.Halts);
    }

    /// <summary>
    /// A halt or resume the breakers decided at tick <paramref name="Tick"/>: a halt reaches the shard
    /// before that tick's prices, a resume (<paramref name="After"/>) after them, as the price service sends them.
    /// </summary>
    private readonly record struct HaltChange(int Tick, bool After, string Symbol, SymbolHalt? Halt, string ResumeReason);

    /// <summary>
    /// Feeds ticks to a shard as its loop would: engine time moving, the timer's AdvanceTime, and the
    /// halts and resumes the price service's breakers decided for these ticks.
    /// </summary>
    private sealed class TimedTickRunner(ShardGrains shard)
    {
        private readonly List<EngineEvent> _output = new(256);
        private DateTimeOffset _now = ShardSetup.T0.AddMinutes(1);
        private int _untilTimer = TimerEveryTicks;
        private long _triggered;
        private long _started;
        private long _failed;
        private long _halts;

        public Tally Counts => new(_triggered, _started, _failed, _halts);

        public DateTimeOffset Now => _now;

        public int UntilTimer => _untilTimer;

        public void Run(int[] symbols, decimal[] prices, int count, List<HaltChange> halts)
        {
            var output = _output;
            var next = 0;
            var nextTick = halts.Count > 0 ? halts[0].Tick : int.MaxValue;
            for (var i = 0; i < count; i++)
            {
                _now += TickSpacing;
                var p = prices[i];
                if (i == nextTick)
                {
                    for (var h = next; h < halts.Count && halts[h].Tick == i; h++)
                        if (!halts[h].After) Apply(halts[h]);
                    shard.OnPrices(Market.Symbols[symbols[i]], new Quote(p, p, p), _now, output);
                    for (; next < halts.Count && halts[next].Tick == i; next++)
                        if (halts[next].After) Apply(halts[next]);
                    nextTick = next < halts.Count ? halts[next].Tick : int.MaxValue;
                }
                else
                {
                    shard.OnPrices(Market.Symbols[symbols[i]], new Quote(p, p, p), _now, output);
                }

                if (--_untilTimer == 0)
                {
                    _untilTimer = TimerEveryTicks;
                    shard.AdvanceTime(_now, output);
                }

                if (output.Count == 0) continue;
                foreach (var e in output)
                {
                    switch (e)
                    {
                        case OrderTriggered:
                            _triggered++;
                            break;
                        case TriggerConfirmationStarted:
                            _started++;
                            break;
                        case TriggerConfirmationFailed:
                            _failed++;
                            break;
                        case SymbolHalted:
                            _halts++;
                            break;
                    }
                }

                output.Clear();
            }
        }

        private void Apply(HaltChange change) => shard.SetSymbolHalt(change.Symbol, change.Halt, change.ResumeReason, _now, _output);
    }
}
