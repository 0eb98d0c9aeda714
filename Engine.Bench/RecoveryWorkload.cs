using System.Diagnostics;
using Engine.Grains;
using Engine.Grains.Orders;
using Engine.Silo;
using Engine.Silo.Persistence;
using Engine.Silo.Serialization;

namespace Engine.Bench;

/// <summary>
/// Workload 4: start-up recovery time with the resting orders. The state is built through the real
/// runtime (SendAsync into the file journal, automatic snapshots off), a copy of the data folder is
/// kept as "journal only", then SnapshotAllAsync writes a snapshot. Each repetition times
/// EngineSilo.StartAsync until it returns (recovered and serving) from (a) a fresh copy of the
/// journal-only folder and (b) the snapshot folder. The page cache is warm (files just written or read).
/// </summary>
internal static class RecoveryWorkload
{
    public static async Task RunAsync(BenchArgs a, Report report)
    {
        foreach (var store in a.Stores)
        {
            if (store == "postgres") await RunPostgresAsync(a, report);
            else await RunFileAsync(a, report);
        }
    }

    /// <summary>
    /// The same on PostgreSQL: the state is built through SendAsync into a database; a copy of the database
    /// before the snapshot (the journal only) is taken as a template; each repetition times StartAsync on (a) a
    /// fresh copy of that and (b) the database with the snapshot.
    /// </summary>
    private static async Task RunPostgresAsync(BenchArgs a, Report report)
    {
        Console.WriteLine($"recovery from PostgreSQL of {a.Orders:N0} resting orders ({a.Accounts:N0} accounts, {a.Shards} shard(s)); build through SendAsync, then time EngineSilo.StartAsync");
        var dir = SiloHarness.NewDirectory(a, "recovery-pg");
        var built = await BenchPostgres.NewDatabaseAsync("recovery");
        string? journalOnly = null;
        try
        {
            long journalRecords;
            double snapshotSeconds;
            var build = SiloHarness.Options(dir, a.Shards, snapshotEvery: long.MaxValue);
            build.ConnectionString = built;
            var harness = await SiloHarness.StartAsync(build, a.Verbose);
            await using (harness)
            {
                await harness.OpenAccountsAsync(a.Accounts);
                await harness.PrimePricesAsync();
                var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
                var took = await harness.PlaceAsync(orders, a.Accounts, concurrency: 1024);
                await harness.DrainAsync();
                journalRecords = harness.Journal.Read().Records;
                Console.WriteLine($"build: {orders.Length:N0} orders through SendAsync into PostgreSQL in {took.TotalSeconds:F1} s; {journalRecords:N0} journal records");
                orders = null;

                // Everything acknowledged is durable: the journal as it stands is copied into its own database.
                journalOnly = await BenchPostgres.NewDatabaseAsync("recovery_journal");
                await CopyJournalAsync(built, journalOnly);
                var watch = Stopwatch.StartNew();
                await harness.Silo.SnapshotAllAsync();
                snapshotSeconds = watch.Elapsed.TotalSeconds;
            }

            var journalBytes = await BenchPostgres.TableBytesAsync(journalOnly, "journal");
            var snapshotBytes = await BenchPostgres.TableBytesAsync(built, "snapshot_chunks");
            Console.WriteLine($"journal only: {Stats.Bytes(journalBytes)} in the journal table ({journalBytes / Math.Max(1, journalRecords):N0} B/record with index); "
                + $"snapshot: {Stats.Bytes(snapshotBytes)} ({snapshotBytes / (double)a.Orders:N0} B/order), written by SnapshotAllAsync in {snapshotSeconds:F2} s");

            var fromJournal = new List<double>();
            var fromSnapshot = new List<double>();
            var table = new Table("rep", "(a) journal only: StartAsync", "(b) snapshot: StartAsync", "engine log (b)");
            for (var rep = 0; rep < a.Reps; rep++)
            {
                var copy = await BenchPostgres.CopyDatabaseAsync(journalOnly, "recovery_copy");
                var (ta, _, _) = await TimeStartAsync(a, dir, a.Orders, copy);
                await BenchPostgres.DropDatabaseAsync(copy);
                var (tb, _, log) = await TimeStartAsync(a, dir, a.Orders, built);
                fromJournal.Add(ta);
                fromSnapshot.Add(tb);
                table.Row(rep + 1, Stats.Ms(ta * 1000), Stats.Ms(tb * 1000), log);
            }

            table.Print();
            var ja = Stats.Median(fromJournal);
            var sb = Stats.Median(fromSnapshot);
            Console.WriteLine($"median of {a.Reps}: (a) journal only {ja:F2} s, (b) snapshot {sb:F2} s; target < 10 s");
            report.Add("recovery (PostgreSQL)", $"(a) StartAsync from journal only, {a.Orders:N0} orders", $"{ja:F2} s", "< 10 s", ja < 10);
            report.Add("recovery (PostgreSQL)", $"(b) StartAsync from snapshot, {a.Orders:N0} orders", $"{sb:F2} s", "< 10 s", sb < 10);
            report.Add("recovery (PostgreSQL)", "  snapshot write (SnapshotAllAsync)", $"{snapshotSeconds:F2} s, {Stats.Bytes(snapshotBytes)}");
        }
        finally
        {
            if (journalOnly is not null) await BenchPostgres.DropDatabaseAsync(journalOnly);
            await BenchPostgres.DropDatabaseAsync(built);
            SiloHarness.DeleteDirectory(a, dir);
        }
    }

    /// <summary>Copies the settings and the journal of a running engine's database into an empty one (binary COPY).</summary>
    private static async Task CopyJournalAsync(string from, string to)
    {
        await using (var migrated = await Engine.Silo.Persistence.Postgres.EngineDatabase.OpenAsync(to))
        {
        }

        await using var source = new Npgsql.NpgsqlConnection(from);
        await using var target = new Npgsql.NpgsqlConnection(to);
        await source.OpenAsync();
        await target.OpenAsync();
        foreach (var table in new[] { "engine_meta", "journal" })
        {
            await using var reader = await source.BeginRawBinaryCopyAsync($"COPY {table} TO STDOUT (FORMAT BINARY)");
            await using var writer = await target.BeginRawBinaryCopyAsync($"COPY {table} FROM STDIN (FORMAT BINARY)");
            await reader.CopyToAsync(writer);
        }
    }

    private static async Task RunFileAsync(BenchArgs a, Report report)
    {
        Console.WriteLine($"recovery of {a.Orders:N0} resting orders ({a.Accounts:N0} accounts, {a.Shards} shard(s)); build through SendAsync, then time EngineSilo.StartAsync; warm page cache");
        var built = SiloHarness.NewDirectory(a, "recovery");
        var journalOnly = built + "-journal";
        try
        {
            long journalRecords;
            double snapshotSeconds;
            var build = SiloHarness.Options(built, a.Shards, snapshotEvery: long.MaxValue);
            var harness = await SiloHarness.StartAsync(build, a.Verbose);
            await using (harness)
            {
                await harness.OpenAccountsAsync(a.Accounts);
                await harness.PrimePricesAsync();
                var orders = OrderMix.Generate(a.Orders, a.Accounts, a.Seed);
                var took = await harness.PlaceAsync(orders, a.Accounts, concurrency: 1024);
                await harness.DrainAsync();
                journalRecords = harness.Journal.Read().Records;
                Console.WriteLine($"build: {orders.Length:N0} orders through SendAsync in {took.TotalSeconds:F1} s; {journalRecords:N0} journal records");
                orders = null;

                // Everything acknowledged is durable: the folder can be copied as it stands (lock files aside).
                CopyDirectory(built, journalOnly);
                var watch = Stopwatch.StartNew();
                await harness.Silo.SnapshotAllAsync();
                snapshotSeconds = watch.Elapsed.TotalSeconds;
            }

            var journalBytes = Bytes(journalOnly, "journal", "*.seg");
            var snapshotBytes = Bytes(built, "snapshots", "*.snap");
            Console.WriteLine($"journal only: {Stats.Bytes(journalBytes)} of segments ({journalBytes / Math.Max(1, journalRecords):N0} B/record); "
                + $"snapshot: {Stats.Bytes(snapshotBytes)} ({snapshotBytes / (double)a.Orders:N0} B/order), written by SnapshotAllAsync in {snapshotSeconds:F2} s");

            var fromJournal = new List<double>();
            var fromSnapshot = new List<double>();
            var memJournal = new List<double>();
            var memSnapshot = new List<double>();
            var table = new Table("rep", "(a) journal only: StartAsync", "heap B/order after (a)", "(b) snapshot: StartAsync", "heap B/order after (b)", "engine log (b)");
            for (var rep = 0; rep < a.Reps; rep++)
            {
                var copy = built + "-r" + rep;
                CopyDirectory(journalOnly, copy);
                var (ta, ma, _) = await TimeStartAsync(a, copy, a.Orders);
                SiloHarness.DeleteDirectory(a, copy);
                var (tb, mb, log) = await TimeStartAsync(a, built, a.Orders);
                fromJournal.Add(ta);
                fromSnapshot.Add(tb);
                memJournal.Add(ma);
                memSnapshot.Add(mb);
                table.Row(rep + 1, Stats.Ms(ta * 1000), ma.ToString("N0"), Stats.Ms(tb * 1000), mb.ToString("N0"), log);
            }

            table.Print();
            var ja = Stats.Median(fromJournal);
            var sb = Stats.Median(fromSnapshot);
            Console.WriteLine($"median of {a.Reps}: (a) journal only {ja:F2} s, (b) snapshot {sb:F2} s; target < 5 s");
            report.Add("recovery", $"(a) StartAsync from journal only, {a.Orders:N0} orders", $"{ja:F2} s", "< 5 s", ja < 5);
            report.Add("recovery", $"(b) StartAsync from snapshot, {a.Orders:N0} orders", $"{sb:F2} s", "< 5 s", sb < 5);
            report.Add("recovery", "  snapshot write (SnapshotAllAsync)", $"{snapshotSeconds:F2} s, {Stats.Bytes(snapshotBytes)}");
            report.Add("recovery", "  heap B/order after recovery (a) / (b)", $"{Stats.Median(memJournal):N0} / {Stats.Median(memSnapshot):N0}");

            await BreakdownAsync(a, journalOnly, built);
        }
        finally
        {
            SiloHarness.DeleteDirectory(a, built);
            SiloHarness.DeleteDirectory(a, journalOnly);
        }
    }

    /// <summary>Times StartAsync; returns seconds, managed heap growth per order, and the engine's recovery log line.</summary>
    private static async Task<(double Seconds, double BytesPerOrder, string Log)> TimeStartAsync(BenchArgs a, string dir, int orders, string? connectionString = null)
    {
        // A disposed engine stays reachable for a moment (its last callbacks): let it go first.
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, true, true);
            GC.WaitForPendingFinalizers();
            await Task.Delay(200);
        }

        var before = GC.GetTotalMemory(true);
        var watch = Stopwatch.StartNew();
        var options = SiloHarness.Options(dir, a.Shards, snapshotEvery: long.MaxValue);
        options.ConnectionString = connectionString;
        var harness = await SiloHarness.StartAsync(options, a.Verbose);
        var seconds = watch.Elapsed.TotalSeconds;
        await using (harness)
        {
            var count = (await harness.Silo.QueryAllAsync(g => g.Orders.Count)).Sum();
            if (count < orders) throw new InvalidOperationException($"recovered {count} orders, expected {orders}");
            var after = GC.GetTotalMemory(true);
            var log = harness.Logs.Lines.FirstOrDefault(l => l.Contains("recovered", StringComparison.Ordinal)) ?? "";
            var ms = log.IndexOf(" from snapshot", StringComparison.Ordinal);
            return (seconds, (after - before) / (double)count, ms < 0 ? log : log[(ms + 1)..]);
        }
    }

    /// <summary>Where recovery time goes, on shard 0: reading the records, JSON, Apply; snapshot read, Restore.</summary>
    private static async Task BreakdownAsync(BenchArgs a, string journalOnly, string withSnapshot)
    {
        Console.WriteLine("breakdown on shard 0 (one pass each; the same steps ShardHost.RecoverAsync takes):");
        var table = new Table("step", "time", "note");
        var sharingJournal = "";
        var sharingSnapshot = "";
        var copy = journalOnly + "-b";
        CopyDirectory(journalOnly, copy);
        try
        {
            var records = new List<ReadOnlyMemory<byte>>();
            var store = new FileJournalStore(copy);
            await using (store)
            {
                var watch = Stopwatch.StartNew();
                var journal = await store.OpenShardAsync(0);
                var open = watch.Elapsed;
                watch.Restart();
                await foreach (var r in journal.ReadAsync(0)) records.Add(r.Payload);
                var read = watch.Elapsed;
                await journal.DisposeAsync();
                table.Row("open journal (scans and checks the last segment)", Stats.Ms(open.TotalMilliseconds), "");
                table.Row($"read {records.Count:N0} records (CRC, copy)", Stats.Ms(read.TotalMilliseconds), $"{records.Count / read.TotalSeconds:N0} records/s");
            }

            // As ShardHost does: deserialize a record, apply it, next (timed apart per record).
            var shard = new ShardGrains(Market.Catalog, new PaperVenue(new EngineOptions().Slippage), new EngineOptions().ToShardOptions());
            long jsonTicks = 0, applyTicks = 0;
            var gc = GcCounts.Now();
            foreach (var record in records)
            {
                var t0 = Stopwatch.GetTimestamp();
                var e = JournalEventCodec.Deserialize(record);
                var t1 = Stopwatch.GetTimestamp();
                shard.Apply(e);
                applyTicks += Stopwatch.GetTimestamp() - t1;
                jsonTicks += t1 - t0;
            }

            var gcDelta = GcCounts.Now() - gc;
            var json = Stats.TicksToMicros(jsonTicks) / 1000;
            var apply = Stats.TicksToMicros(applyTicks) / 1000;
            table.Row("JournalEventCodec.Deserialize, per record", Stats.Ms(json), $"{json * 1000 / records.Count:F2} µs/event");
            table.Row("ShardGrains.Apply, per record", Stats.Ms(apply), $"{apply * 1000 / records.Count:F2} µs/event, {shard.Orders.Count:N0} orders");
            table.Row("  (GC during the two above)", Stats.Ms(gcDelta.Pause.TotalMilliseconds), $"{gcDelta.Counts} collections gen0/1/2, pause time included above");
            records.Clear();
            sharingJournal = SharingReport.Analyze(shard);
        }
        finally
        {
            SiloHarness.DeleteDirectory(a, copy);
        }

        var snapshots = new FileSnapshotStore(Path.Combine(withSnapshot, "snapshots"));
        var sw = Stopwatch.StartNew();
        await using (var reader = await snapshots.LoadLatestAsync(0))
        {
            var load = sw.Elapsed;
            if (reader is null)
            {
                table.Row("snapshot", "none found", "");
            }
            else
            {
                sw.Restart();
                var state = ShardSnapshotCodec.Read(reader.Content);
                var decode = sw.Elapsed;
                sw.Restart();
                var shard = ShardGrains.Restore(state, Market.Catalog, new PaperVenue(new EngineOptions().Slippage), new EngineOptions().ToShardOptions());
                var restore = sw.Elapsed;
                table.Row("open newest snapshot (LoadLatestAsync)", Stats.Ms(load.TotalMilliseconds), "");
                table.Row("ShardSnapshotCodec.Read", Stats.Ms(decode.TotalMilliseconds), $"{state.Orders.Length:N0} orders");
                table.Row("ShardGrains.Restore", Stats.Ms(restore.TotalMilliseconds), $"{shard.TriggerCount:N0} trigger entries");
                sharingSnapshot = SharingReport.Analyze(shard);
            }
        }

        table.Print();
        Console.WriteLine("sharing after replaying the journal: " + sharingJournal);
        Console.WriteLine("sharing after restoring the snapshot: " + sharingSnapshot);
    }

    private static long Bytes(string dir, string sub, string pattern)
    {
        var path = Path.Combine(dir, sub);
        return Directory.Exists(path) ? Directory.EnumerateFiles(path, pattern, SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length) : 0;
    }

    /// <summary>Copies a data folder, leaving out lock files (held by a running engine).</summary>
    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (name is ".lock" or "LOCK") continue;
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
        }
    }
}
