using Engine.Silo.Persistence;
using Engine.Silo.Persistence.Postgres;
using Engine.Tests.Postgres;
using Npgsql;

namespace Engine.Tests.Silo;

/// <summary>The store contract against PostgreSQL: each store name is its own database on the throwaway server.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresJournalStoreTests(PostgresFixture postgres) : JournalStoreContract
{
    private readonly Dictionary<string, string> _databases = [];

    protected override async Task<IJournalStore> CreateStoreAsync(string name)
    {
        if (!_databases.TryGetValue(name, out var connectionString))
            _databases[name] = connectionString = await postgres.CreateDatabaseAsync("contract_" + name);
        return await PostgresJournalStore.OpenAsync(connectionString);
    }

    [Fact]
    public async Task OpenShardAsync_ShardOpenInAnotherStore_IsRefused()
    {
        IJournalStore first = await OpenAsync("a");
        IJournalStore second = await OpenAsync("a");
        await first.OpenShardAsync(2);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await second.OpenShardAsync(2));
        IShardJournal other = await second.OpenShardAsync(3);
        Assert.Equal(0, other.LastSequence);
    }

    [Fact]
    public async Task OpenShardAsync_AfterTheOtherWriterClosed_Succeeds()
    {
        IJournalStore first = await OpenAsync("a");
        IShardJournal journal = await first.OpenShardAsync(2);
        await journal.AppendAsync(Batch(2, 1, 3));
        await journal.DisposeAsync();

        IJournalStore second = await OpenAsync("a");
        IShardJournal reopened = await second.OpenShardAsync(2);

        Assert.Equal(3, reopened.LastSequence);
    }

    [Fact]
    public async Task AppendAsync_ConnectionKilled_FailsAndReopenSeesOnlyWhatCommitted()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        await journal.AppendAsync(Batch(0, 1, 2));
        await KillWritersAsync();

        await Assert.ThrowsAnyAsync<Exception>(async () => await journal.AppendAsync(Batch(0, 3, 2)));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await journal.AppendAsync(Batch(0, 3, 2)));
        await journal.DisposeAsync();

        journal = await store.OpenShardAsync(0);
        Assert.Equal(2, journal.LastSequence);
        Assert.Equal(4, await journal.AppendAsync(Batch(0, 3, 2)));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 4);
    }

    [Fact]
    public async Task TruncateBeforeAsync_AfterSnapshot_KeepsEveryRecordForTheHistory()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        await journal.AppendAsync(Batch(0, 1, 10));
        await store.Snapshots.SaveAsync(0, 10, WriteText("at 10"));
        await journal.TruncateBeforeAsync(10);
        await journal.DisposeAsync();

        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);

        Assert.Equal(10, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 10);
        Assert.Equal(11, await journal.AppendAsync(Batch(0, 11, 1)));
    }

    /// <summary>Ends the server sessions that hold a shard's writer lock, as a lost connection would.</summary>
    private async Task KillWritersAsync()
    {
        await using var admin = new NpgsqlConnection(postgres.Server.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1", admin);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = PostgresJournalStore.LockSpace });
        await command.ExecuteNonQueryAsync();
    }
}
