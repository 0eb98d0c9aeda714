using System.Collections.Concurrent;
using Npgsql;

namespace Engine.Silo.Persistence.Postgres;

/// <summary>
/// The journal and snapshots in PostgreSQL (tables of <see cref="EngineDbContext"/>). Each open shard journal
/// holds one connection of its own, with a session advisory lock on the shard: a second writer, in this
/// process or another node on the same database, is refused while the first one's connection lives.
/// </summary>
public sealed class PostgresJournalStore : IJournalStore
{
    /// <summary>First key of the shards' advisory locks (ASCII "ENGJ"); the second key is the shard.</summary>
    internal const int LockSpace = 0x454E474A;

    private readonly NpgsqlDataSource _dataSource;
    private readonly bool _ownsDataSource;
    private readonly ConcurrentDictionary<int, PostgresShardJournal> _open = new();
    private int _disposed;

    /// <summary>A store on a data source whose schema is migrated (see <see cref="EngineDatabase.OpenAsync"/>).</summary>
    public PostgresJournalStore(NpgsqlDataSource dataSource, bool ownsDataSource = false)
    {
        _dataSource = dataSource;
        _ownsDataSource = ownsDataSource;
        Snapshots = new PostgresSnapshotStore(dataSource);
    }

    /// <summary>Opens the database (migrating it) and a store on it that owns the connection pool.</summary>
    public static async Task<PostgresJournalStore> OpenAsync(string connectionString, CancellationToken ct = default) =>
        new(await EngineDatabase.OpenAsync(connectionString, ct), ownsDataSource: true);

    public ISnapshotStore Snapshots { get; }

    public async ValueTask<IShardJournal> OpenShardAsync(int shard, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        var journal = new PostgresShardJournal(shard, _dataSource, () => _open.TryRemove(shard, out _));
        if (!_open.TryAdd(shard, journal)) throw new InvalidOperationException($"shard {shard} is already open in this store");
        try
        {
            await journal.OpenAsync(ct);
            return journal;
        }
        catch
        {
            await journal.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        foreach (var journal in _open.Values) await journal.DisposeAsync();
        if (_ownsDataSource) await _dataSource.DisposeAsync();
    }
}
