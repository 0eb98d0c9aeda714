namespace Engine.Silo.Persistence;

/// <summary>
/// The durable store behind the engine: one append-only journal per shard plus that shard's snapshots.
/// Implementations (the embedded file store, PostgreSQL) must pass the same contract tests.
/// </summary>
public interface IJournalStore : IAsyncDisposable
{
    /// <summary>
    /// Opens, creating if needed, the journal of one shard. Called once per shard at start-up; a second
    /// open of a shard that is still open is refused, because a journal has exactly one writer.
    /// </summary>
    ValueTask<IShardJournal> OpenShardAsync(int shard, CancellationToken ct = default);

    /// <summary>Snapshots of the same shards.</summary>
    ISnapshotStore Snapshots { get; }
}
