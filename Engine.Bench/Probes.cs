using System.Diagnostics;

namespace Engine.Bench;

/// <summary>
/// Experiments behind the hot-spot findings, not part of <c>all</c>: <c>probe-place</c> (CPU per
/// Execute(PlaceOrder) while building the shard) and <c>probe-fire</c> (CPU per fired order in
/// OnPrices, against the trigger book alone). Meant to be run under a profiler (dotnet-trace).
/// </summary>
internal static class Probes
{
    public static async Task RunAsync(BenchArgs a, string name)
    {
        switch (name)
        {
            case "probe-pg-append":
                await PostgresAppendProbeAsync();
                break;
            case "probe-place":
            {
                var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
                var shard = ShardSetup.NewShard();
                ShardSetup.OpenAccounts(shard, a.Accounts);
                ShardSetup.PrimeQuotes(shard);
                var cpu = Cpu.ThreadTime();
                var watch = Stopwatch.StartNew();
                ShardSetup.Place(shard, orders, a.Accounts);
                var used = Cpu.ThreadTime() - cpu;
                Console.WriteLine($"Execute(PlaceOrder) x {orders.Length:N0}: {watch.Elapsed.TotalSeconds:F2} s wall, {used.TotalSeconds:F2} s thread CPU, "
                    + $"{used.TotalMilliseconds * 1000 / orders.Length:F2} µs/order");
                break;
            }

            case "probe-fire":
                FireProbe.Run(a);
                break;
            case "probe-trailing":
                TrailingProbe.Run(a);
                break;
            default:
                throw new ArgumentException($"unknown probe {name}");
        }
    }

    /// <summary>The PostgreSQL journal alone: one shard appending fixed batches of 70-byte records back to back.</summary>
    private static async Task PostgresAppendProbeAsync()
    {
        var connectionString = await BenchPostgres.NewDatabaseAsync("probe");
        await using var store = await Engine.Silo.Persistence.Postgres.PostgresJournalStore.OpenAsync(connectionString);
        await using var journal = await store.OpenShardAsync(0);
        foreach (var batch in new[] { 100, 1000, 4000 })
        {
            var records = Enumerable.Range(0, batch).Select(_ => (ReadOnlyMemory<byte>)new byte[70]).ToArray();
            var watch = Stopwatch.StartNew();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            long rows = 0;
            var appends = 0;
            while (watch.Elapsed.TotalSeconds < 4)
            {
                await journal.AppendAsync(records);
                rows += batch;
                appends++;
            }

            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"batch {batch}: {rows / watch.Elapsed.TotalSeconds:N0} records/s, {watch.Elapsed.TotalMilliseconds / appends:N2} ms per append, "
                + $"bench process {used / watch.Elapsed.TotalSeconds:N2} cores");
        }
    }
}

/// <summary>What one fired order costs in OnPrices: stops stacked one tick apart, a price stepping through them.</summary>
internal static class FireProbe
{
    public static void Run(BenchArgs a)
    {
        var perRound = a.Orders / 5;
        for (var round = 0; round < 3; round++)
        {
            foreach (var kind in new[] { Engine.Grains.Orders.OrderType.Stop, Engine.Grains.Orders.OrderType.StopLimit })
            {
                var shard = ShardSetup.NewShard();
                ShardSetup.OpenAccounts(shard, a.Accounts);
                ShardSetup.PrimeQuotes(shard);
                var ids = ShardSetup.AccountIds(a.Accounts);
                var inst = Market.Instruments[0];
                var p0 = Market.StartPrices[0];
                for (var i = 0; i < perRound; i++)
                {
                    var trigger = p0 + (1 + i / 4) * inst.TickSize;
                    var r = new Engine.Grains.Orders.OrderRequest
                    {
                        Symbol = inst.Symbol, Side = Engine.Grains.Orders.OrderSide.Buy, Type = kind, Quantity = 0.001m, TriggerPrice = trigger,
                        Price = kind == Engine.Grains.Orders.OrderType.StopLimit ? trigger + 100m : null,
                    };
                    var res = shard.Execute(new Engine.Grains.PlaceOrder(r, null) { Account = ids[i % ids.Length] }, ShardSetup.T0);
                    if (!res.Succeeded) throw new InvalidOperationException(res.Rejection!.ToString());
                }

                var output = new List<Engine.Grains.Events.EngineEvent>();
                var cpu = Cpu.ThreadNanos();
                var ticks = perRound / 4;
                for (var t = 1; t <= ticks; t++)
                {
                    var p = p0 + t * inst.TickSize;
                    shard.OnPrices(inst.Symbol, new Engine.Grains.Orders.Quote(p, p, p), ShardSetup.T0, output);
                }

                var ns = Cpu.ThreadNanos() - cpu;
                var triggered = output.Count(e => e is Engine.Grains.Events.OrderTriggered);
                if (round == 2)
                    Console.WriteLine($"{kind}: {ticks:N0} ticks each firing 4 orders: {ns / 1000.0 / ticks:F1} µs per tick, {ns / 1000.0 / triggered:F2} µs per fired order; "
                        + $"{output.Count / (double)triggered:F1} events per fired order: {string.Join(", ", output.GroupBy(e => e.GetType().Name).Select(g => $"{g.Key} {g.Count()}"))}");
            }
        }

        // The trigger book alone, same shape.
        for (var round = 0; round < 3; round++)
        {
            var book = new Engine.Grains.Orders.TriggerBook();
            for (var i = 0; i < perRound; i++) book.AddLevel(i, Engine.Grains.Orders.TriggerDirection.Rise, 60_000m + (1 + i / 4) * 0.1m);
            var fired = new List<long>();
            var cpu = Cpu.ThreadNanos();
            for (var t = 1; t <= perRound / 4; t++) book.Evaluate(60_000m + t * 0.1m, fired);
            var ns = Cpu.ThreadNanos() - cpu;
            if (round == 2) Console.WriteLine($"TriggerBook.Evaluate alone: {ns / 1000.0 / (perRound / 4):F2} µs per tick firing 4, {fired.Count:N0} fired");
        }
    }
}

/// <summary>
/// Trailing stops placed at one extreme share a group; the first fire out of the group pays for the
/// pairing heap built by n inserts (its root holds up to n children). Times the first and later fires.
/// </summary>
internal static class TrailingProbe
{
    public static void Run(BenchArgs a)
    {
        foreach (var n in new[] { 1_000, 10_000, 100_000 })
        {
            for (var round = 0; round < 2; round++)
            {
                var book = new Engine.Grains.Orders.TriggerBook();
                var rng = new Random(a.Seed);
                for (var i = 0; i < n; i++)
                    book.AddTrailing(i, Engine.Grains.Orders.TriggerDirection.Fall, rng.Next(50, 1001) / 10_000m, null, 60_000m);
                var fired = new List<long>();
                var price = 60_000m;
                var times = new List<double>();
                // Step the price down until something fires, five times.
                while (times.Count < 5 && price > 50_000m)
                {
                    price -= 0.5m;
                    var t0 = Cpu.ThreadNanos();
                    book.Evaluate(price, fired);
                    var ns = Cpu.ThreadNanos() - t0;
                    if (fired.Count > 0)
                    {
                        times.Add(ns / 1000.0);
                        fired.Clear();
                    }
                }

                if (round == 1)
                    Console.WriteLine($"{n:N0} trailing stops in one group: first five firing Evaluate calls took {string.Join(", ", times.Select(t => $"{t:F1} µs"))}");
            }
        }
    }
}
