using System.Collections.Concurrent;
using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Silo.Runtime;

namespace Engine.Bench;

/// <summary>
/// Copy fan-out through the real runtime (<see cref="EngineSilo"/>, file journal, fsync per batch): one
/// leader's strategy with <c>--followers</c> subscriptions spread over <c>--copy-shards</c> shards. Each
/// repetition is one leader market order (alternately opening 10 BTC and closing it, so followers open
/// and close in turn); the figure is the time from the leader's command to the last follower shard's
/// outcomes being durable, and follower orders per second over it. The fan-out's own clock (from the
/// leader's fill being decided, as the engine's histogram records it) is printed alongside.
/// </summary>
internal static class CopyWorkload
{
    private const string Symbol = "BTC-USDT";

    /// <summary>The mirroring itself, in one shard's grains with no runtime or journal: what a follower costs.</summary>
    private static void GrainsOnly(BenchArgs a)
    {
        var shard = ShardSetup.NewShard();
        ShardSetup.PrimeQuotes(shard);
        var leader = new AccountId("leader");
        var now = ShardSetup.T0;
        void Must(Command c)
        {
            var r = shard.Execute(c, now);
            if (!r.Succeeded) throw new InvalidOperationException($"{c.GetType().Name}: {r.Rejection}");
        }

        Must(new OpenAccount("leader", "h") { Account = leader });
        Must(new Deposit(10_000_000m) { Account = leader });
        Must(new TransferFunds(BucketId.For(leader, 1), TransferDirection.In, 10_000_000m) { Account = leader });
        var strategy = (StrategyId)shard.Execute(new PublishStrategy(BucketId.For(leader, 1), "bench", null) { Account = leader }, now).Value!;
        var settings = new CopySettings { Mode = CopySizingMode.FixedRatio, Ratio = 0.01m, OnInsufficientMargin = InsufficientMarginPolicy.Skip };
        var subs = new SubscriptionId[a.Followers];
        for (var i = 0; i < a.Followers; i++)
        {
            var id = new AccountId($"f{i:D6}");
            Must(new OpenAccount("f", "h") { Account = id });
            Must(new Deposit(10_000m) { Account = id });
            subs[i] = (SubscriptionId)shard.Execute(new Subscribe(strategy, new AccountId("elsewhere"), 5_000m, settings, null, null) { Account = id }, now).Value!;
        }

        var times = new List<double>();
        var allocations = new List<double>();
        var buy = true;
        for (var rep = -a.CopyWarmups; rep < a.CopyReps; rep++)
        {
            var signal = new CopySignal
            {
                Sequence = rep + a.CopyWarmups + 1,
                Kind = CopySignalKind.Fill,
                Symbol = Symbol,
                Side = buy ? OrderSide.Buy : OrderSide.Sell,
                Quantity = 10m,
                Price = 50_000m,
                PositionBefore = buy ? 0m : 10m,
                PositionAfter = buy ? 10m : 0m,
                LeaderEquity = 10_000_000m,
                Leverage = 10,
            };
            var events = new List<EngineEvent>(a.Followers * 4);
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            shard.OnCopySignal(strategy, signal, subs, now, events);
            if (rep >= 0)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
                allocations.Add((GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)a.Followers);
            }

            buy = !buy;
        }

        // For scale: the same followers each placing the same market order themselves (the engine's plain order path).
        var plain = Stopwatch.StartNew();
        for (var i = 0; i < a.Followers; i++)
            shard.Execute(new PlaceOrder(new OrderRequest { Bucket = BucketId.For(new AccountId($"f{i:D6}"), 2), Symbol = Symbol, Side = OrderSide.Buy, Type = OrderType.Market, Quantity = 0.1m }, null)
            { Account = new AccountId($"f{i:D6}") }, now);
        Console.WriteLine($"  grains only: {a.Followers:N0} plain market orders placed with Execute in {Stats.Ms(plain.Elapsed.TotalMilliseconds)}");
        var median = Stats.Median(times);
        Console.WriteLine($"  grains only: {a.Followers:N0} followers mirrored by one shard's grains in {Stats.Ms(median)} (median of {a.CopyReps} after {a.CopyWarmups} warm-up signals), "
            + $"{Stats.Rate(a.Followers / (median / 1000))}; {Stats.Median(allocations):F0} B allocated per follower (opening and closing alternately)");
    }

    public static async Task RunAsync(BenchArgs a, Report report)
    {
        if (a.CopyPart != "engine") GrainsOnly(a);
        if (a.CopyPart == "grains") return;
        var dir = SiloHarness.NewDirectory(a, "copy");
        try
        {
            var options = SiloHarness.Options(dir, a.CopyShards, snapshotEvery: 50_000_000);
            await using var harness = await SiloHarness.StartAsync(options, a.Verbose);
            var silo = harness.Silo;
            Console.WriteLine($"{a.Followers:N0} followers over {a.CopyShards} shards, one leader; file journal in {dir}; {a.CopyReps} measured fan-outs after {a.CopyWarmups} warm-up ones");

            var setup = Stopwatch.StartNew();
            await harness.PrimePricesAsync();
            var leader = new AccountId("leader");
            await harness.MustAsync(new OpenAccount("leader", "hash-leader") { Account = leader });
            await harness.MustAsync(new Deposit(10_000_000m) { Account = leader });
            await harness.MustAsync(new TransferFunds(BucketId.For(leader, 1), TransferDirection.In, 10_000_000m) { Account = leader });
            var strategy = (StrategyId)(await silo.SendAsync(new CommandEnvelope(new PublishStrategy(BucketId.For(leader, 1), "bench", null) { Account = leader }))).Result.Value!;
            var settings = new CopySettings { Mode = CopySizingMode.FixedRatio, Ratio = 0.01m, OnInsufficientMargin = InsufficientMarginPolicy.Skip };
            var perShard = new int[a.CopyShards];
            await SiloHarness.RunConcurrentAsync(a.Followers, 256, async i =>
            {
                var id = new AccountId($"f{i:D6}");
                await harness.MustAsync(new OpenAccount($"follower {i}", $"hash-f{i}") { Account = id });
                await harness.MustAsync(new Deposit(10_000m) { Account = id });
                var outcome = await silo.Copy.SubscribeAsync(strategy, new CommandEnvelope(new Subscribe(strategy, leader, 5_000m, settings, null, null) { Account = id }));
                if (!outcome.Result.Succeeded) throw new InvalidOperationException($"subscribe rejected: {outcome.Result.Rejection}");
                Interlocked.Increment(ref perShard[silo.ShardOf(id)]);
            });
            await harness.DrainAsync();
            Console.WriteLine($"  set up in {setup.Elapsed.TotalSeconds:F1} s; followers per shard: {string.Join(" / ", perShard)}; leader on shard {silo.ShardOf(leader)}");

            var completed = new ConcurrentDictionary<long, TaskCompletionSource<(int Followers, TimeSpan FanOut)>>();
            silo.FanOut.SignalCompleted += (s, sequence, followers, elapsed) =>
            {
                if (s == strategy) completed.GetOrAdd(sequence, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult((followers, elapsed));
            };

            var totals = new List<double>();
            var fanOuts = new List<double>();
            var quiet = new List<double>();
            var cpus = new List<double>();
            var buy = true;
            for (var rep = -a.CopyWarmups; rep < a.CopyReps; rep++)
            {
                var sequence = await silo.QueryAsync(leader, g => g.FindStrategy(strategy)!.LastSequence) + 1;
                var done = completed.GetOrAdd(sequence, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));
                var request = new OrderRequest { Symbol = Symbol, Side = buy ? OrderSide.Buy : OrderSide.Sell, Type = OrderType.Market, Quantity = 10m, ReduceOnly = !buy };
                var collections = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
                var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                await harness.MustAsync(new PlaceOrder(request, null) { Account = leader });
                var (followers, fanOut) = await done.Task.WaitAsync(TimeSpan.FromMinutes(2));
                var total = watch.Elapsed;
                var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMilliseconds;
                if (followers != a.Followers) throw new InvalidOperationException($"signal {sequence} reached {followers} followers, expected {a.Followers}");
                var copied = await silo.QueryAllAsync(g => g.Subscriptions.Count(s => s.LastSequence == sequence && s.Outcomes.Newest.Outcome == CopyOutcome.Copied));
                var label = rep < 0 ? "warm-up" : $"rep {rep + 1}";
                var gcs = (GC.CollectionCount(0) - collections.Item1, GC.CollectionCount(1) - collections.Item2, GC.CollectionCount(2) - collections.Item3);
                if (a.Verbose || rep >= 0)
                    Console.WriteLine($"  {label}: {(buy ? "open" : "close")} {total.TotalMilliseconds:F1} ms leader order to last outcome durable "
                        + $"(fan-out {fanOut.TotalMilliseconds:F1} ms), {copied.Sum():N0} copied, {a.Followers / total.TotalSeconds:N0} follower orders/s; "
                        + $"garbage collections gen0/1/2 {gcs.Item1}/{gcs.Item2}/{gcs.Item3}; process CPU {cpu:F0} ms");
                if (rep >= 0)
                {
                    totals.Add(total.TotalMilliseconds);
                    fanOuts.Add(fanOut.TotalMilliseconds);
                    if (gcs == (0, 0, 0)) quiet.Add(total.TotalMilliseconds);
                    cpus.Add(cpu);
                }

                buy = !buy;
            }

            var median = Stats.Median(totals);
            var sorted = totals.Order().ToArray();
            Console.WriteLine($"  median {Stats.Ms(median)} (range {Stats.Range(totals, Stats.Ms)}, 90th percentile {Stats.Ms(Stats.Percentile(sorted, 90))}), "
                + $"fan-out alone median {Stats.Ms(Stats.Median(fanOuts))}; {Stats.Rate(a.Followers / (median / 1000))} follower orders; "
                + $"{totals.Count - quiet.Count} of {totals.Count} fan-outs had a garbage collection during them"
                + (quiet.Count > 0 ? $" (median of the others {Stats.Ms(Stats.Median(quiet))})" : "")
                + $"; process CPU per fan-out median {Stats.Ms(Stats.Median(cpus))} ({Stats.Median(cpus) * 1000 / a.Followers:F1} µs per follower, every thread and the collector included)");
            report.Add("copy", $"leader fill to last of {a.Followers:N0} follower outcomes, durable ({a.CopyShards} shards)", Stats.Ms(median), "< 50 ms", median < 50);
            report.Add("copy", "follower orders per second (median)", Stats.Rate(a.Followers / (median / 1000)), ">= 200,000/s", a.Followers / (median / 1000) >= 200_000);
        }
        finally
        {
            SiloHarness.DeleteDirectory(a, dir);
        }
    }
}

