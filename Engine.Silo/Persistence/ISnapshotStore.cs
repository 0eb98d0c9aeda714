namespace Engine.Silo.Persistence;

/// <summary>Snapshots of shard state; they bound recovery time (load the newest, replay the journal after it).</summary>
public interface ISnapshotStore
{
    /// <summary>
    /// Durably and atomically stores the full state of <paramref name="shard"/> as of journal sequence
    /// <paramref name="sequence"/>. <paramref name="write"/> streams the content (it can be hundreds of MB);
    /// it may dispose the stream it is given. Until this completes, a reader sees the previous snapshot;
    /// if it fails, no partial snapshot is ever visible.
    /// </summary>
    ValueTask SaveAsync(int shard, long sequence, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default);

    /// <summary>
    /// The newest complete and intact snapshot of <paramref name="shard"/>, or null when there is none.
    /// The caller disposes the returned reader.
    /// </summary>
    ValueTask<SnapshotReader?> LoadLatestAsync(int shard, CancellationToken ct = default);
}
