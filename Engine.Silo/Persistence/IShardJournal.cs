namespace Engine.Silo.Persistence;

/// <summary>
/// The journal of one shard. It has exactly one writer (the shard's loop): appends never run
/// concurrently with each other. Journals of different shards are used from different threads at once.
/// </summary>
public interface IShardJournal : IAsyncDisposable
{
    /// <summary>The shard this journal belongs to.</summary>
    int Shard { get; }

    /// <summary>Sequence of the last durable record; 0 when the journal is empty.</summary>
    long LastSequence { get; }

    /// <summary>
    /// Reads, in order, every record with a sequence greater than <paramref name="afterSequence"/> up to
    /// <see cref="LastSequence"/> as of the call. Used at recovery, before any append. Each returned payload
    /// is owned by the caller. Throws <see cref="InvalidDataException"/> when stored records are corrupt
    /// or not contiguous, and <see cref="InvalidOperationException"/> when records that are asked for were
    /// already discarded by <see cref="TruncateBeforeAsync"/>.
    /// </summary>
    IAsyncEnumerable<JournalRecord> ReadAsync(long afterSequence, CancellationToken ct = default);

    /// <summary>
    /// Appends a batch of records (the shard's group commit) and completes only when all of them are
    /// durable. Returns the sequence of the last record; an empty batch writes nothing and returns
    /// <see cref="LastSequence"/>. Cancellation is observed only before anything is written. If the write
    /// itself fails, the outcome on disk is unknown, so the journal refuses further appends and the shard
    /// must be reopened (recovery settles what was durable).
    /// </summary>
    ValueTask<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken ct = default);

    /// <summary>
    /// Tells the journal that a snapshot at <paramref name="sequence"/> is durable, so records up to and
    /// including it may be discarded to bound disk use. Discarding is optional and may be coarser or later
    /// than asked; records after <paramref name="sequence"/> always stay readable.
    /// </summary>
    ValueTask TruncateBeforeAsync(long sequence, CancellationToken ct = default);
}
