using System.Diagnostics;
using Engine.Grains.Pricing;

namespace Engine.Bench;

/// <summary>
/// The second line of workload 1: ticks through the whole runtime. An EngineSilo with one shard over
/// the file journal holds the same orders (placed with SendAsync); ticks go in through
/// PriceService.Ingest (one source, so last = index and the mark is the engine's time-weighted
/// mean), which posts each changed quote to the shard's mailbox; the shard loop runs OnPrices,
/// journals what fired or moved (group commit, fsync) and the run ends when a query posted after
/// the last tick completes.
/// </summary>
internal static class TriggerRuntimePath
{
    private const int IngestBatch = 1_000;

    public static async Task RunAsync(BenchArgs a, Report report)
    {
        Console.WriteLine();
        Console.WriteLine($"--- full runtime path: EngineSilo (1 shard, file journal, engine defaults), ticks via PriceService.Ingest in batches of {IngestBatch} ---");
        var dir = SiloHarness.NewDirectory(a, "trigger");
        try
        {
            var harness = await SiloHarness.StartAsync(SiloHarness.Options(dir, shards: 1, snapshotEvery: new Engine.Silo.EngineOptions().SnapshotEveryEvents), a.Verbose);
            await using (harness)
            {
                await harness.OpenAccountsAsync(a.Accounts);
                await harness.PrimePricesAsync();
                var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
                var took = await harness.PlaceAsync(orders, a.Accounts, concurrency: 1024);
                await harness.DrainAsync();
                Console.WriteLine($"setup: placed {orders.Length:N0} orders through SendAsync in {took.TotalSeconds:F1} s ({orders.Length / took.TotalSeconds:N0}/s, 1024 in flight)");
                orders = null;
                GC.Collect();

                var walk = new RandomWalk(a.Seed + 1);
                var warm = Math.Min(a.RuntimeTicks, 200_000);
                await FeedAsync(harness, walk, warm);

                var rates = new List<double>();
                var ingestRates = new List<double>();
                var table = new Table("rep", "ticks", "ticks/s end to end", "Ingest returned after", "shard drained after");
                for (var rep = 0; rep < a.Reps; rep++)
                {
                    var (ingest, total) = await FeedAsync(harness, walk, a.RuntimeTicks);
                    rates.Add(a.RuntimeTicks / total.TotalSeconds);
                    ingestRates.Add(a.RuntimeTicks / ingest.TotalSeconds);
                    table.Row(rep + 1, a.RuntimeTicks, Stats.Rate(a.RuntimeTicks / total.TotalSeconds), Stats.Ms(ingest.TotalMilliseconds), Stats.Ms(total.TotalMilliseconds));
                }

                table.Print();
                var median = Stats.Median(rates);
                Console.WriteLine($"runtime path ticks/s (median of {a.Reps}): {Stats.Rate(median)} end to end; PriceService.Ingest alone: {Stats.Rate(Stats.Median(ingestRates))}");
                foreach (var line in harness.Logs.Lines.Where(l => l.Contains("snapshot", StringComparison.Ordinal)))
                    Console.WriteLine("  engine log: " + line);
                report.Add("trigger", "ticks/s full runtime (Ingest -> shard -> journal)", Stats.Rate(median), "(second line, no target)");
            }
        }
        finally
        {
            SiloHarness.DeleteDirectory(a, dir);
        }
    }

    /// <summary>Feeds <paramref name="count"/> walk ticks; returns when Ingest returned and when the shard had drained.</summary>
    private static async Task<(TimeSpan Ingest, TimeSpan Total)> FeedAsync(SiloHarness harness, RandomWalk walk, int count)
    {
        int[] symbols = [];
        decimal[] prices = [];
        walk.Next(count, ref symbols, ref prices);
        var prices2 = harness.Silo.Prices;
        var batch = new PriceTick[IngestBatch];
        var start = Stopwatch.GetTimestamp();
        await Task.Run(() =>
        {
            for (var i = 0; i < count; i += IngestBatch)
            {
                var n = Math.Min(IngestBatch, count - i);
                var now = TimeProvider.System.GetUtcNow();
                for (var k = 0; k < n; k++) batch[k] = new PriceTick(SiloHarness.Source, Market.Symbols[symbols[i + k]], prices[i + k], now);
                prices2.Ingest(n == IngestBatch ? batch : batch[..n]);
            }
        });
        var ingest = Stopwatch.GetElapsedTime(start);
        await harness.DrainAsync();
        return (ingest, Stopwatch.GetElapsedTime(start));
    }
}
