using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Orders;
using Engine.Silo.Persistence;
using Engine.Silo.Runtime;

namespace Engine.Bench;

/// <summary>
/// Workload 2: durable placements per second through ONE shard into the file journal (or PostgreSQL, or both
/// one after the other in the same run: --store). Each repetition
/// starts a fresh EngineSilo (Shards = 1, temporary data folder, simulated feed off, other options at
/// the engine's defaults), opens the accounts, and then N callers each keep one
/// SendAsync(PlaceOrder) in flight: stop orders far from any price, so none fires. A placement
/// counts when it started after the warm-up and was acknowledged (durable) before the end.
/// </summary>
internal static class JournalWorkload
{
    public static async Task RunAsync(BenchArgs a, Report report)
    {
        foreach (var store in a.Stores)
        {
            if (store != a.Stores[0]) Console.WriteLine();
            await RunStoreAsync(a, report, store);
        }

        ShardThreadCost(a);
    }

    private static string Describe(string store) => store == "postgres" ? "PostgreSQL (one row per group commit)" : "the file journal";

    private static async Task RunStoreAsync(BenchArgs a, Report report, string store)
    {
        Console.WriteLine($"durable placements through {(a.JournalShards == 1 ? "ONE shard" : $"{a.JournalShards} shards")} into {Describe(store)}; {a.Concurrency} in flight; "
            + $"{a.JournalWarmup:0.#} s warm-up + {a.Seconds:0.#} s measured per repetition; {a.Accounts:N0} accounts; fresh engine per repetition");
        var rates = new List<double>();
        var eventRates = new List<double>();
        var p50s = new List<double>();
        var p99s = new List<double>();
        var table = new Table("rep", "in flight", "placements/s", "events/s", "ack p50", "ack p99", "ack p99.9", "max", "events/commit", "append ms", "snapshots in window");
        for (var rep = 0; rep < a.Reps; rep++)
        {
            var r = await OneRunAsync(a, store, a.Concurrency, rep);
            rates.Add(r.Rate);
            eventRates.Add(r.Counters.Records / a.Seconds);
            p50s.Add(r.P50);
            p99s.Add(r.P99);
            table.Row(rep + 1, a.Concurrency, Stats.Rate(r.Rate), Stats.Rate(r.Counters.Records / a.Seconds), Stats.Us(r.P50), Stats.Us(r.P99), Stats.Us(r.P999), Stats.Us(r.Max), r.Batch, r.Append, r.Snapshots);
        }

        table.Print();
        var median = Stats.Median(rates);
        var events = Stats.Median(eventRates);
        var name = store == "postgres" ? "journal (PostgreSQL)" : "journal";
        Console.WriteLine($"median of {a.Reps}: {Stats.Rate(median)} placements, {Stats.Rate(events)} journaled events (range {Stats.Range(rates, Stats.Rate)}), "
            + $"ack p50 {Stats.Us(Stats.Median(p50s))}, p99 {Stats.Us(Stats.Median(p99s))}");
        if (store == "postgres")
            report.Add(name, $"journaled events/s into PostgreSQL, 1 shard, {a.Concurrency} in flight", Stats.Rate(events), ">= 100,000/s", events >= 100_000);
        else
            report.Add(name, $"durable placements/s, 1 shard, {a.Concurrency} in flight", Stats.Rate(median), ">= 200,000/s", median >= 200_000);
        report.Add(name, "  journaled events/s", Stats.Rate(events));
        report.Add(name, "ack latency p50 / p99", $"{Stats.Us(Stats.Median(p50s))} / {Stats.Us(Stats.Median(p99s))}");

        if (a.Sweep.Length > 0)
        {
            Console.WriteLine();
            Console.WriteLine("in-flight sweep (1 repetition each): group commit makes throughput follow the batch size");
            var sweep = new Table("in flight", "placements/s", "events/s", "ack p50", "ack p99", "events/commit", "append ms", "snapshots in window");
            foreach (var c in a.Sweep)
            {
                var r = await OneRunAsync(a, store, c, -1);
                sweep.Row(c, Stats.Rate(r.Rate), Stats.Rate(r.Counters.Records / a.Seconds), Stats.Us(r.P50), Stats.Us(r.P99), r.Batch, r.Append, r.Snapshots);
                report.Add(name, $"  sweep: {c} in flight", $"{Stats.Rate(r.Rate)}, p99 {Stats.Us(r.P99)}");
            }

            sweep.Print();
        }
    }

    /// <summary>
    /// The shard loop's own CPU per placement, measured on one thread without the runtime: Execute
    /// (decide + apply) and the journal's JSON serialization of the event it produced.
    /// </summary>
    private static void ShardThreadCost(BenchArgs a)
    {
        const int n = 200_000;
        var shard = ShardSetup.NewShard();
        ShardSetup.OpenAccounts(shard, a.Accounts);
        var requests = StopPool(4096);
        var accounts = ShardSetup.AccountIds(a.Accounts);
        var events = new List<Engine.Grains.Events.EngineEvent>(n);
        var encoder = new Engine.Silo.Serialization.JournalBatchEncoder();
        for (var round = 0; round < 2; round++)
        {
            events.Clear();
            var cpu = Cpu.ThreadTime();
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < n; i++)
            {
                var command = new PlaceOrder(requests[i % requests.Length], null) { Account = accounts[i % accounts.Length] };
                shard.Execute(command, ShardSetup.T0, events);
            }

            var execute = (Cpu.ThreadTime() - cpu).TotalMilliseconds * 1000 / n;
            var executeBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / n;
            cpu = Cpu.ThreadTime();
            allocated = GC.GetAllocatedBytesForCurrentThread();
            long bytes = 0;
            for (var i = 0; i < events.Count; i++)
            {
                encoder.Add(events[i]);
                if (encoder.Count < 256 && i < events.Count - 1) continue;
                foreach (var record in encoder.Records()) bytes += record.Length;
                encoder.Clear();
            }
            var serialize = (Cpu.ThreadTime() - cpu).TotalMilliseconds * 1000 / n;
            var serializeBytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / n;
            if (round == 0) continue; // the first round warms the JIT up
            Console.WriteLine();
            Console.WriteLine($"shard-thread CPU per placement, measured alone on one thread ({n:N0} stop orders, thread CPU time): "
                + $"Execute(PlaceOrder) {execute:F2} µs + journal encoding of OrderAccepted (batches of 256) {serialize:F2} µs ({bytes / n} B) = {execute + serialize:F2} µs "
                + $"-> at most {1_000_000 / (execute + serialize):N0} placements/s per shard loop even with the fsync fully overlapped; "
                + $"allocated per placement: Execute {executeBytes:N0} B (the retained order included), Serialize {serializeBytes:N0} B");
        }
    }

    private sealed record RunResult(double Rate, double P50, double P99, double P999, double Max, JournalCounters Counters)
    {
        public string Batch => Counters.RecordsPerCommit.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        public string Append => Counters.MeanAppendMs.ToString("N2", System.Globalization.CultureInfo.InvariantCulture) + " ms";
        public long Snapshots => Counters.Snapshots;
    }

    private static async Task DelayUntil(long timestamp)
    {
        var wait = timestamp - Stopwatch.GetTimestamp();
        if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency));
    }

    private static async Task<RunResult> OneRunAsync(BenchArgs a, string store, int concurrency, int rep)
    {
        var dir = SiloHarness.NewDirectory(a, "journal");
        try
        {
            var options = SiloHarness.Options(dir, shards: a.JournalShards, snapshotEvery: new Engine.Silo.EngineOptions().SnapshotEveryEvents);
            if (store == "postgres") options.ConnectionString = await BenchPostgres.NewDatabaseAsync("journal");
            options.History.ReadModel = a.ReadModel;
            var harness = await SiloHarness.StartAsync(options, a.Verbose);
            await using (harness)
            {
                await harness.OpenAccountsAsync(a.Accounts);
                var silo = harness.Silo;
                var result = await DriveAsync(a, concurrency, rep, harness.Journal, c => silo.SendAsync(new CommandEnvelope(c)),
                    rep < 0 ? "sweep" : $"rep {rep + 1}");
                var placed = (await silo.QueryAllAsync(g => g.Orders.Count)).Sum();
                Console.WriteLine($"    ({placed:N0} orders in the shard at the end)");
                return result;
            }
        }
        finally
        {
            SiloHarness.DeleteDirectory(a, dir);
        }
    }

    /// <summary>
    /// N callers each keep one placement in flight for warm-up + measured seconds; latencies of the
    /// placements that started after the warm-up and were acknowledged before the end.
    /// </summary>
    private static async Task<RunResult> DriveAsync(BenchArgs a, int concurrency, int rep, MeteredJournalStore journal, Func<Command, Task<CommandOutcome>> send, string label)
    {
        var requests = StopPool(4096);
        var accounts = ShardSetup.AccountIds(a.Accounts);
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + (long)(a.JournalWarmup * Stopwatch.Frequency);
        var measureTo = measureFrom + (long)(a.Seconds * Stopwatch.Frequency);
        var perWorker = new Latencies[concurrency];
        var failures = 0;

        async Task Worker(int w)
        {
            var lat = perWorker[w] = new Latencies(1 << 14);
            var n = w;
            while (true)
            {
                var t0 = Stopwatch.GetTimestamp();
                if (t0 >= measureTo) return;
                var command = new PlaceOrder(requests[n % requests.Length], null) { Account = accounts[n % accounts.Length] };
                n += concurrency;
                var ok = (await send(command)).Result.Succeeded;
                var t1 = Stopwatch.GetTimestamp();
                if (!ok)
                {
                    Interlocked.Increment(ref failures);
                    continue;
                }

                if (t0 >= measureFrom && t1 <= measureTo) lat.Add(Stats.TicksToMicros(t1 - t0));
            }
        }

        var cpu = "";
        var benchCores = 0.0;
        long allocatedInWindow = 0;
        var meter = Task.Run(async () =>
        {
            await DelayUntil(measureFrom);
            var c0 = journal.Read();
            var allocated0 = GC.GetTotalAllocatedBytes();
            journal.ResetMax();
            var window = new CpuWindow();
            var threads = new ThreadCpuWindow();
            await DelayUntil(measureTo);
            var c1 = journal.Read();
            allocatedInWindow = GC.GetTotalAllocatedBytes() - allocated0;
            var usage = window.Stop();
            cpu = CpuWindow.Describe(usage) + "; bench threads (cores): " + threads.Stop();
            benchCores = usage.Ours;
            return c1 - c0;
        });
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(() => Worker(w))));
        var counters = await meter;
        if (failures > 0) Console.WriteLine($"  WARNING: {failures} placements were rejected");
        var all = new Latencies(1 << 20);
        foreach (var l in perWorker) all.AddRange(l);
        var (p50, p99, p999, max) = all.Summary();
        var rate = all.Count / a.Seconds;
        Console.WriteLine($"  {label}: {concurrency} in flight: {Stats.Rate(rate)}, p50 {Stats.Us(p50)}, p99 {Stats.Us(p99)}; in the window: "
            + $"{counters.Commits / a.Seconds:N0} commits/s of {counters.RecordsPerCommit:N0} events ({counters.BytesPerRecord:N0} B/event), "
            + $"AppendAsync (write+fsync) {counters.MeanAppendMs:N2} ms mean / {Stats.TicksToMicros(counters.MaxAppendTicks) / 1000:N1} ms max, "
            + $"{100 * counters.AppendSeconds / a.Seconds:N0}% of the window inside AppendAsync; snapshots {counters.Snapshots} ({counters.SnapshotSeconds:N1} s); "
            + $"{cpu}; whole-process CPU per placement {benchCores * 1e6 / Math.Max(1, rate):F1} µs, allocated per placement {allocatedInWindow / Math.Max(1, rate * a.Seconds):N0} B (snapshots included)");
        return new RunResult(rate, p50, p99, p999, max, counters);
    }

    /// <summary>Stop orders 40% to 50% away from the start price: they never fire.</summary>
    private static OrderRequest[] StopPool(int count)
    {
        var pool = new OrderRequest[count];
        for (var i = 0; i < count; i++)
        {
            var s = i % Market.Count;
            var inst = Market.Instruments[s];
            var p0 = Market.StartPrices[s];
            var buy = (i / Market.Count) % 2 == 0;
            var away = 0.4m + (i % 100) / 1000m;
            pool[i] = new OrderRequest
            {
                Symbol = inst.Symbol,
                Side = buy ? OrderSide.Buy : OrderSide.Sell,
                Type = OrderType.Stop,
                Quantity = OrderMix.QuantityFor(inst, p0),
                TriggerPrice = buy ? inst.CeilToTick(p0 * (1 + away)) : inst.FloorToTick(p0 * (1 - away)),
            };
        }

        return pool;
    }
}
