using System.Text.Json;
using Engine.Api.Contracts;
using Engine.Api.Http;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Silo.History;
using Engine.Silo.Persistence.Postgres;
using Engine.Silo.Serialization;
using Engine.Tests.Grains;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Engine.Tests.Postgres;

/// <summary>
/// The history read model against the live state it mirrors: a random workload (every order type, list, plan
/// and risk control) is journaled into PostgreSQL, projected, and every order and fill the shard still knows
/// must read back from the history tables exactly as the API shows it from memory.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HistoryProjectorTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Projector_RandomWorkloadJournal_HistoryMatchesLiveStateExactly()
    {
        var workload = new RandomWorkload(21, new ShardOptions());
        workload.Run(batches: 1_500);
        await using var db = await EngineDatabase.OpenAsync(await postgres.CreateDatabaseAsync(nameof(Projector_RandomWorkloadJournal_HistoryMatchesLiveStateExactly)));
        await JournalAsync(db, workload.Journal);

        await ProjectAsync(db, workload.Journal.Count);

        await AssertHistoryMatchesAsync(db, workload);
    }

    [Fact]
    public async Task Projector_TablesEmptiedAndCheckpointsReset_RebuildsTheSameRowsFromTheJournal()
    {
        var workload = new RandomWorkload(22, new ShardOptions());
        workload.Run(batches: 600);
        await using var db = await EngineDatabase.OpenAsync(await postgres.CreateDatabaseAsync(nameof(Projector_TablesEmptiedAndCheckpointsReset_RebuildsTheSameRowsFromTheJournal)));
        await JournalAsync(db, workload.Journal);
        await ProjectAsync(db, workload.Journal.Count);
        var before = await DumpAsync(db);

        await using (var reset = db.CreateCommand("TRUNCATE history_orders, history_fills, history_plan_events, history_checkpoints"))
            await reset.ExecuteNonQueryAsync();
        Assert.Empty(await DumpAsync(db));
        await ProjectAsync(db, workload.Journal.Count);

        Assert.Equal(before, await DumpAsync(db));
        Assert.Contains(before, row => row.StartsWith("plan ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Projector_JournalGrowsAfterStart_TakesInNewRecordsInOrder()
    {
        var workload = new RandomWorkload(23, new ShardOptions());
        workload.Run(batches: 800);
        await using var db = await EngineDatabase.OpenAsync(await postgres.CreateDatabaseAsync(nameof(Projector_JournalGrowsAfterStart_TakesInNewRecordsInOrder)));
        var half = workload.Journal.Count / 2;
        await JournalAsync(db, workload.Journal.Take(half).ToList());
        await using var projector = await HistoryProjector.StartAsync(db, 1, NullLogger.Instance);
        await projector.WaitForAsync(0, half, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        await JournalAsync(db, workload.Journal.Skip(half).ToList(), firstSequence: half + 1);
        projector.Wake();
        await projector.WaitForAsync(0, workload.Journal.Count, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(workload.Journal.Count, projector.Checkpoint(0));
        await AssertHistoryMatchesAsync(db, workload);
    }

    private static async Task AssertHistoryMatchesAsync(NpgsqlDataSource db, RandomWorkload workload)
    {
        var reader = new HistoryReader(db);
        var accepted = workload.Journal.OfType<OrderAccepted>().ToList();
        var fills = workload.Journal.Count(e => e is OrderFilled or PositionLiquidated);
        Assert.Equal(accepted.Count, await CountAsync(db, "history_orders"));
        Assert.Equal(fills, await CountAsync(db, "history_fills"));
        var compared = 0;
        foreach (var (id, account) in workload.Shard.Accounts)
        {
            var finished = (await reader.FinishedOrdersAsync(id, null, null, 0, int.MaxValue, CancellationToken.None)).ToDictionary(o => o.Number);
            foreach (var number in account.RecentDoneOrders)
            {
                var live = workload.Shard.FindOrder(id, number)!;
                Assert.True(finished.TryGetValue(number, out var stored), $"finished order {number} of {id.Value} is not in history");
                Assert.Equal(Json(Views.Order(null, live)), Json(Views.Order(null, stored)));
                compared++;
            }

            var storedFills = (await reader.FillsAsync(id, null, 0, int.MaxValue, CancellationToken.None)).ToDictionary(f => f.Number);
            foreach (var fill in account.Fills)
            {
                Assert.True(storedFills.TryGetValue(fill.Number, out var stored), $"fill {fill.Number} of {id.Value} is not in history");
                Assert.Equal(Json(Views.Fill(id, fill)), Json(Views.Fill(id, stored)));
                compared++;
            }
        }

        Assert.True(compared > 500, $"only {compared} orders and fills compared");

        // Positions over time end where the shard's positions are now.
        var open = new Dictionary<(string, string, string), decimal>();
        await using (var command = db.CreateCommand(
            "SELECT DISTINCT ON (account_id, bucket_id, symbol) account_id, bucket_id, symbol, quantity FROM history_positions " +
            "ORDER BY account_id, bucket_id, symbol, fill_number DESC"))
        await using (var rows = await command.ExecuteReaderAsync())
            while (await rows.ReadAsync())
                if (rows.GetDecimal(3) != 0m) open[(rows.GetString(0), rows.GetString(1), rows.GetString(2))] = rows.GetDecimal(3);
        var positions = workload.Shard.Accounts.Values.SelectMany(a => a.Buckets.SelectMany(b => b.Positions.Values.Select(p =>
            KeyValuePair.Create((a.Id.Value, b.Id.Value, p.Symbol), p.Quantity)))).ToDictionary();
        Assert.NotEmpty(positions);
        Assert.Equal(positions.OrderBy(p => p.Key), open.OrderBy(p => p.Key));
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value, ApiJson.Options);

    /// <summary>Journals the events as the PostgreSQL journal does, one row per batch (batches of 1 to 13 events here).</summary>
    private static async Task JournalAsync(NpgsqlDataSource db, IReadOnlyList<EngineEvent> events, long firstSequence = 1)
    {
        var firsts = new List<long>();
        var lasts = new List<long>();
        var rows = new List<byte[]>();
        for (var i = 0; i < events.Count;)
        {
            var count = Math.Min(1 + i % 13, events.Count - i);
            firsts.Add(firstSequence + i);
            lasts.Add(firstSequence + i + count - 1);
            rows.Add(JournalRows.Frame(events.Skip(i).Take(count).Select(e => (ReadOnlyMemory<byte>)JournalEventCodec.Serialize(e)).ToList()));
            i += count;
        }

        await using var command = db.CreateCommand(
            "INSERT INTO journal (shard, first_sequence, last_sequence, records) SELECT 0, * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])");
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = firsts.ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = lasts.ToArray() });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = rows.ToArray() });
        await command.ExecuteNonQueryAsync();
    }

    private static async Task ProjectAsync(NpgsqlDataSource db, long through)
    {
        await using var projector = await HistoryProjector.StartAsync(db, 1, NullLogger.Instance);
        await projector.WaitForAsync(0, through, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
    }

    private static async Task<long> CountAsync(NpgsqlDataSource db, string table)
    {
        await using var command = db.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Every history row as text, in key order.</summary>
    private static async Task<List<string>> DumpAsync(NpgsqlDataSource db)
    {
        var rows = new List<string>();
        foreach (var (label, query) in new[]
        {
            ("order", "SELECT t::text FROM history_orders t ORDER BY account_id, number"),
            ("fill", "SELECT t::text FROM history_fills t ORDER BY account_id, number"),
            ("plan", "SELECT t::text FROM history_plan_events t ORDER BY shard, sequence"),
            ("checkpoint", "SELECT t::text FROM history_checkpoints t ORDER BY shard"),
        })
        {
            await using var command = db.CreateCommand(query);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) rows.Add($"{label} {reader.GetString(0)}");
        }

        return rows;
    }
}
