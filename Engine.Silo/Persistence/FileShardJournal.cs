using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Win32.SafeHandles;

namespace Engine.Silo.Persistence;

/// <summary>
/// The file journal of one shard: a directory of segment files written by one thread. See
/// <see cref="FileJournalStore"/> for the layout and record format.
/// </summary>
internal sealed class FileShardJournal : IShardJournal
{
    private const string SegmentExtension = ".seg";
    private const int ReadBufferBytes = 1 << 20;

    // Large batches are written in chunks of this size (one fsync per batch still), so the reused
    // buffer stays small whatever the batch.
    private const int WriteChunkBytes = 1 << 20;

    private readonly string _directory;
    private readonly long _segmentBytes;
    private readonly FileSnapshotStore _snapshots;
    private readonly Action<FileShardJournal> _onDisposed;
    private readonly SafeFileHandle _lock;
    private readonly List<long> _segments;
    private SafeFileHandle _segment;
    private long _writeOffset;
    private long _lastSequence;
    private byte[]? _buffer;
    private Exception? _fault;
    private bool _disposed;

    private FileShardJournal(
        int shard,
        string directory,
        long segmentBytes,
        FileSnapshotStore snapshots,
        Action<FileShardJournal> onDisposed,
        SafeFileHandle lockHandle,
        List<long> segments,
        SafeFileHandle segment,
        long writeOffset,
        long lastSequence)
    {
        Shard = shard;
        _directory = directory;
        _segmentBytes = segmentBytes;
        _snapshots = snapshots;
        _onDisposed = onDisposed;
        _lock = lockHandle;
        _segments = segments;
        _segment = segment;
        _writeOffset = writeOffset;
        _lastSequence = lastSequence;
    }

    public int Shard { get; }

    public long LastSequence => Volatile.Read(ref _lastSequence);

    internal static string SegmentFileName(long firstSequence)
        => firstSequence.ToString("D20", CultureInfo.InvariantCulture) + SegmentExtension;

    internal static async ValueTask<FileShardJournal> OpenAsync(
        int shard,
        string directory,
        long segmentBytes,
        FileSnapshotStore snapshots,
        Action<string> log,
        Action<FileShardJournal> onDisposed,
        CancellationToken ct)
    {
        DirectorySync.CreateDurably(directory);
        SafeFileHandle lockHandle = AcquireLock(shard, directory);
        SafeFileHandle? segment = null;
        try
        {
            List<long> segments = ListSegments(directory);
            if (segments.Count == 0)
            {
                segment = CreateSegment(directory, 1);
                segments.Add(1);
                return new FileShardJournal(shard, directory, segmentBytes, snapshots, onDisposed, lockHandle, segments, segment, 0, 0);
            }

            long first = segments[^1];
            string path = Path.Combine(directory, SegmentFileName(first));
            segment = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
            (long end, long lastSequence) = await RecoverTailAsync(shard, path, segment, first, log, ct).ConfigureAwait(false);
            return new FileShardJournal(shard, directory, segmentBytes, snapshots, onDisposed, lockHandle, segments, segment, end, lastSequence);
        }
        catch
        {
            segment?.Dispose();
            lockHandle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Validates the last segment and cuts off a torn final batch. Only the tail can be torn: earlier
    /// batches were fsynced before a later batch was written, so damage followed by the start of a later
    /// batch is corruption of acknowledged data, never a crash artefact.
    /// </summary>
    private static async ValueTask<(long End, long LastSequence)> RecoverTailAsync(
        int shard, string path, SafeFileHandle segment, long firstSequence, Action<string> log, CancellationToken ct)
    {
        long length = RandomAccess.GetLength(segment);
        var reader = new SegmentReader(segment, length, ReadBufferBytes);
        long expected = firstSequence;
        // The end of the last whole batch: only batches that were completely written were ever acknowledged.
        long wholeEnd = 0;
        long wholeSequence = firstSequence - 1;
        while (true)
        {
            RecordStatus status = await reader.ReadNextAsync(ct).ConfigureAwait(false);
            if (status == RecordStatus.EndOfSegment)
            {
                if (wholeEnd == length)
                {
                    return (length, expected - 1);
                }

                return Cut(wholeEnd, $"incomplete batch: {expected - 1 - wholeSequence} records without the end of their batch");
            }

            if (status == RecordStatus.Ok)
            {
                if (reader.Sequence != expected)
                {
                    throw new InvalidDataException(
                        $"journal shard {shard}: record at offset {reader.Position} of '{path}' has sequence {reader.Sequence}, expected {expected}; the journal is not contiguous");
                }

                expected++;
                if (reader.LastInBatch)
                {
                    wholeEnd = reader.Position;
                    wholeSequence = reader.Sequence;
                }

                continue;
            }

            long badOffset = reader.Position;
            byte[] rest = new byte[length - badOffset];
            RandomAccess.Read(segment, rest, badOffset);
            if (JournalFormat.FindBatchStart(rest, 1, expected - 1) is { } later)
            {
                throw new InvalidDataException(
                    $"journal shard {shard}: corrupt record at offset {badOffset} of '{path}' ({SegmentReader.Describe(status)}) "
                    + $"is followed by a later batch starting at sequence {later.Sequence} (offset {badOffset + later.Offset}); "
                    + "refusing to drop acknowledged records. Restore the shard from a backup or move the damaged segment aside after inspection.");
            }

            return Cut(wholeEnd, SegmentReader.Describe(status) + (wholeEnd < badOffset ? " within an incomplete batch" : ""));
        }

        (long End, long LastSequence) Cut(long at, string why)
        {
            RandomAccess.SetLength(segment, at);
            RandomAccess.FlushToDisk(segment);
            log($"journal shard {shard}: dropped torn tail at offset {at} ({why}) of '{Path.GetFileName(path)}', "
                + $"{length - at} bytes discarded; last durable sequence is {wholeSequence}");
            return (at, wholeSequence);
        }
    }

    public async IAsyncEnumerable<JournalRecord> ReadAsync(long afterSequence, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(afterSequence);
        ObjectDisposedException.ThrowIf(_disposed, this);
        long upTo = LastSequence;
        if (afterSequence >= upTo)
        {
            yield break;
        }

        long[] segments = [.. _segments];
        int index = segments.Length - 1;
        while (index >= 0 && segments[index] > afterSequence + 1)
        {
            index--;
        }

        if (index < 0)
        {
            throw new InvalidOperationException(
                $"journal shard {Shard}: records after sequence {afterSequence} were discarded by TruncateBeforeAsync; the oldest retained record is {segments[0]}");
        }

        long expected = segments[index];
        for (int i = index; i < segments.Length && expected <= upTo; i++)
        {
            string path = Path.Combine(_directory, SegmentFileName(segments[i]));
            if (segments[i] != expected)
            {
                throw new InvalidDataException(
                    $"journal shard {Shard}: segment '{path}' starts at sequence {segments[i]} but the previous one ends at {expected - 1}; the journal is not contiguous");
            }

            using SafeFileHandle handle = File.OpenHandle(
                path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
            var reader = new SegmentReader(handle, RandomAccess.GetLength(handle), ReadBufferBytes);
            while (expected <= upTo)
            {
                RecordStatus status = await reader.ReadNextAsync(ct).ConfigureAwait(false);
                if (status == RecordStatus.EndOfSegment)
                {
                    break;
                }

                if (status != RecordStatus.Ok)
                {
                    throw new InvalidDataException(
                        $"journal shard {Shard}: corrupt record at offset {reader.Position} of '{path}' ({SegmentReader.Describe(status)})");
                }

                if (reader.Sequence != expected)
                {
                    throw new InvalidDataException(
                        $"journal shard {Shard}: record at offset {reader.Position} of '{path}' has sequence {reader.Sequence}, expected {expected}; the journal is not contiguous");
                }

                expected++;
                if (reader.Sequence > afterSequence)
                {
                    yield return new JournalRecord(reader.Sequence, reader.Payload.ToArray());
                }
            }
        }

        if (expected <= upTo)
        {
            throw new InvalidDataException(
                $"journal shard {Shard}: segments end at sequence {expected - 1} but the last durable sequence is {upTo}");
        }
    }

    public ValueTask<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken ct = default)
    {
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<long>(ct);
        }

        try
        {
            // Synchronous on purpose: the shard loop cannot answer anyone before the fsync anyway, and a
            // thread hop per batch would only add latency to every commit.
            return ValueTask.FromResult(Append(records));
        }
        catch (Exception e)
        {
            return ValueTask.FromException<long>(e);
        }
    }

    private long Append(IReadOnlyList<ReadOnlyMemory<byte>> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault is not null)
        {
            throw new InvalidOperationException(
                $"journal shard {Shard}: an earlier append failed, so what reached the disk is unknown; reopen the shard to recover", _fault);
        }

        if (records.Count == 0)
        {
            return _lastSequence;
        }

        long total = 0;
        for (int i = 0; i < records.Count; i++)
        {
            int length = records[i].Length;
            if (length > JournalFormat.MaxPayloadBytes)
            {
                throw new ArgumentException(
                    $"record {i} of the batch has {length} bytes; the journal accepts at most {JournalFormat.MaxPayloadBytes}", nameof(records));
            }

            total += JournalFormat.HeaderSize + length;
        }

        try
        {
            if (_writeOffset >= _segmentBytes)
            {
                Rotate();
            }

            byte[] buffer = RentBuffer((int)Math.Min(total, WriteChunkBytes));
            long sequence = _lastSequence;
            long offset = _writeOffset;
            int used = 0;
            for (int i = 0; i < records.Count; i++)
            {
                ReadOnlySpan<byte> payload = records[i].Span;
                int size = JournalFormat.HeaderSize + payload.Length;
                if (size > buffer.Length - used)
                {
                    if (used > 0)
                    {
                        RandomAccess.Write(_segment, buffer.AsSpan(0, used), offset);
                        offset += used;
                        used = 0;
                    }

                    if (size > buffer.Length)
                    {
                        buffer = _buffer = new byte[size];
                    }
                }

                sequence++;
                Span<byte> record = buffer.AsSpan(used, size);
                payload.CopyTo(record[JournalFormat.HeaderSize..]);
                JournalFormat.WriteHeader(record, sequence, firstInBatch: i == 0, lastInBatch: i == records.Count - 1);
                used += size;
            }

            RandomAccess.Write(_segment, buffer.AsSpan(0, used), offset);
            offset += used;
            RandomAccess.FlushToDisk(_segment);

            _writeOffset = offset;
            Volatile.Write(ref _lastSequence, sequence);
            if (buffer.Length > WriteChunkBytes)
            {
                // One oversized record should not pin its buffer for the life of the shard.
                _buffer = null;
            }

            return sequence;
        }
        catch (Exception e)
        {
            _fault = e;
            throw;
        }
    }

    private byte[] RentBuffer(int wanted)
    {
        if (_buffer is null || _buffer.Length < wanted)
        {
            _buffer = new byte[Math.Max(wanted, JournalFormat.HeaderSize)];
        }

        return _buffer;
    }

    private void Rotate()
    {
        long first = _lastSequence + 1;
        SafeFileHandle next = CreateSegment(_directory, first);
        _segment.Dispose();
        _segment = next;
        _segments.Add(first);
        _writeOffset = 0;
    }

    public ValueTask TruncateBeforeAsync(long sequence, CancellationToken ct = default)
    {
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(ct);
        }

        try
        {
            ArgumentOutOfRangeException.ThrowIfNegative(sequence);
            ObjectDisposedException.ThrowIf(_disposed, this);

            // Recovery falls back to the older retained snapshot when the newest is unreadable, so the
            // journal must still reach back to it.
            long keepAfter = Math.Min(sequence, _snapshots.FallbackFloor(Shard));
            bool deleted = false;
            while (_segments.Count > 1 && _segments[1] <= keepAfter + 1)
            {
                // Oldest first, so a crash part-way leaves a contiguous suffix.
                File.Delete(Path.Combine(_directory, SegmentFileName(_segments[0])));
                _segments.RemoveAt(0);
                deleted = true;
            }

            if (deleted)
            {
                DirectorySync.Flush(_directory);
            }

            return ValueTask.CompletedTask;
        }
        catch (Exception e)
        {
            return ValueTask.FromException(e);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!_disposed)
        {
            _disposed = true;
            _segment.Dispose();
            _lock.Dispose();
            _onDisposed(this);
        }

        return ValueTask.CompletedTask;
    }

    private static SafeFileHandle AcquireLock(int shard, string directory)
    {
        try
        {
            // FileShare.None takes an exclusive OS lock (flock on Unix), so a second writer in this or
            // another process is refused instead of interleaving records.
            return File.OpenHandle(Path.Combine(directory, "LOCK"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"journal shard {shard} is already open (by this or another process): '{directory}'", e);
        }
    }

    private static SafeFileHandle CreateSegment(string directory, long firstSequence)
    {
        SafeFileHandle handle = File.OpenHandle(
            Path.Combine(directory, SegmentFileName(firstSequence)), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            DirectorySync.Flush(directory);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static List<long> ListSegments(string directory)
    {
        var segments = new List<long>();
        foreach (string path in Directory.EnumerateFiles(directory, "*" + SegmentExtension))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (name.Length == 20 && long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out long first) && first > 0)
            {
                segments.Add(first);
            }
        }

        segments.Sort();
        return segments;
    }
}
