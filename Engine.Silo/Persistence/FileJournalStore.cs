using System.Collections.Concurrent;
using System.Globalization;

namespace Engine.Silo.Persistence;

/// <summary>
/// The embedded journal store (the default): append-only segment files and snapshot files under one data
/// directory. Every append is one write plus one fsync for the whole batch (group commit).
/// </summary>
/// <remarks>
/// <para>On-disk layout under the data directory (NN is the shard number, at least two digits):</para>
/// <code>
/// journal/shard-NN/LOCK                         held exclusively while the shard's journal is open
/// journal/shard-NN/{firstSequence:D20}.seg      segment files, named after the sequence of their first record
/// snapshots/shard-NN/{sequence:D20}.snap        complete snapshots, the newest two are kept
/// snapshots/shard-NN/{sequence:D20}.snap.tmp    a snapshot being written; ignored, removed by the next save
/// </code>
/// <para>
/// Segment files are a plain sequence of records, little-endian:
/// [int32 payload length][int64 sequence, top bit set on the first record of each append batch]
/// [uint32 CRC-32C of the 8 sequence bytes and the payload][payload].
/// A new segment is started, at a batch boundary, once the current one has reached the segment size.
/// </para>
/// <para>
/// Recovery scans the last segment. A damaged or incomplete record with nothing after it but the rest of
/// its own batch is a torn write from a crash: the file is cut back to the last intact record and the cut
/// is logged. Damage followed by the start of a later batch, a damaged record in an older segment, or a gap
/// in the sequences is corruption of acknowledged data and raises <see cref="InvalidDataException"/>.
/// </para>
/// <para>
/// <see cref="IShardJournal.TruncateBeforeAsync"/> deletes whole segments, and never past the older retained
/// snapshot, so that recovery can still fall back to it when the newest snapshot is unreadable.
/// </para>
/// </remarks>
public sealed class FileJournalStore : IJournalStore
{
    /// <summary>Default size after which a new segment file is started: 64 MiB.</summary>
    public const long DefaultSegmentBytes = 64L * 1024 * 1024;

    /// <summary>Largest payload a record may carry.</summary>
    public const int MaxPayloadBytes = JournalFormat.MaxPayloadBytes;

    private readonly string _journalDirectory;
    private readonly long _segmentBytes;
    private readonly Action<string> _log;
    private readonly FileSnapshotStore _snapshots;
    private readonly ConcurrentDictionary<int, FileShardJournal?> _open = new();
    private bool _disposed;

    /// <param name="dataDirectory">Root of the layout above; created if missing.</param>
    /// <param name="log">Receives one line per recovery action (a dropped torn tail, a skipped snapshot).</param>
    /// <param name="segmentBytes">Size in bytes after which the next batch starts a new segment file.</param>
    public FileJournalStore(string dataDirectory, Action<string>? log = null, long segmentBytes = DefaultSegmentBytes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(segmentBytes);
        DataDirectory = Path.GetFullPath(dataDirectory);
        _journalDirectory = Path.Combine(DataDirectory, "journal");
        _segmentBytes = segmentBytes;
        _log = log ?? (_ => { });
        _snapshots = new FileSnapshotStore(Path.Combine(DataDirectory, "snapshots"), _log);
    }

    public string DataDirectory { get; }

    public ISnapshotStore Snapshots => _snapshots;

    public async ValueTask<IShardJournal> OpenShardAsync(int shard, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shard);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_open.TryAdd(shard, null))
        {
            throw new InvalidOperationException($"journal shard {shard} is already open; a shard journal has exactly one writer");
        }

        try
        {
            FileShardJournal journal = await FileShardJournal.OpenAsync(
                shard,
                Path.Combine(_journalDirectory, ShardFolder(shard)),
                _segmentBytes,
                _snapshots,
                _log,
                closed => _open.TryRemove(new KeyValuePair<int, FileShardJournal?>(closed.Shard, closed)),
                ct).ConfigureAwait(false);
            _open[shard] = journal;
            return journal;
        }
        catch
        {
            _open.TryRemove(shard, out _);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (FileShardJournal? journal in _open.Values)
        {
            if (journal is not null)
            {
                await journal.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    internal static string ShardFolder(int shard) => "shard-" + shard.ToString("D2", CultureInfo.InvariantCulture);
}
