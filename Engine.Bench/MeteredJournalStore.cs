using System.Diagnostics;
using Engine.Silo.Persistence;

namespace Engine.Bench;

/// <summary>
/// The engine's real store (the file journal or PostgreSQL) with counters around it: group commits, records, bytes, time
/// spent inside AppendAsync (write + fsync) and inside snapshot saves. Adds two timestamps per commit.
/// </summary>
internal sealed class MeteredJournalStore(IJournalStore inner) : IJournalStore
{
    private readonly MeteredSnapshots _snapshots = new(inner.Snapshots);
    private long _commits;
    private long _records;
    private long _bytes;
    private long _appendTicks;
    private long _maxAppendTicks;

    public ISnapshotStore Snapshots => _snapshots;

    public JournalCounters Read() => new(
        Interlocked.Read(ref _commits),
        Interlocked.Read(ref _records),
        Interlocked.Read(ref _bytes),
        Interlocked.Read(ref _appendTicks),
        Interlocked.Read(ref _maxAppendTicks),
        _snapshots.Count,
        _snapshots.Ticks);

    public void ResetMax() => Interlocked.Exchange(ref _maxAppendTicks, 0);

    public async ValueTask<IShardJournal> OpenShardAsync(int shard, CancellationToken ct = default) =>
        new Metered(await inner.OpenShardAsync(shard, ct), this);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private void Count(int records, long bytes, long ticks)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _records, records);
        Interlocked.Add(ref _bytes, bytes);
        Interlocked.Add(ref _appendTicks, ticks);
        long max;
        while (ticks > (max = Interlocked.Read(ref _maxAppendTicks)) && Interlocked.CompareExchange(ref _maxAppendTicks, ticks, max) != max)
        {
        }
    }

    private sealed class Metered(IShardJournal journal, MeteredJournalStore owner) : IShardJournal
    {
        public int Shard => journal.Shard;

        public long LastSequence => journal.LastSequence;

        public IAsyncEnumerable<JournalRecord> ReadAsync(long afterSequence, CancellationToken ct = default) => journal.ReadAsync(afterSequence, ct);

        public async ValueTask<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken ct = default)
        {
            long bytes = 0;
            for (var i = 0; i < records.Count; i++) bytes += records[i].Length;
            var start = Stopwatch.GetTimestamp();
            var result = await journal.AppendAsync(records, ct);
            owner.Count(records.Count, bytes, Stopwatch.GetTimestamp() - start);
            return result;
        }

        public ValueTask TruncateBeforeAsync(long sequence, CancellationToken ct = default) => journal.TruncateBeforeAsync(sequence, ct);

        public ValueTask DisposeAsync() => journal.DisposeAsync();
    }

    private sealed class MeteredSnapshots(ISnapshotStore inner) : ISnapshotStore
    {
        private long _count;
        private long _ticks;

        public long Count => Interlocked.Read(ref _count);
        public long Ticks => Interlocked.Read(ref _ticks);

        public async ValueTask SaveAsync(int shard, long sequence, Func<Stream, CancellationToken, ValueTask> write, CancellationToken ct = default)
        {
            var start = Stopwatch.GetTimestamp();
            await inner.SaveAsync(shard, sequence, write, ct);
            Interlocked.Add(ref _ticks, Stopwatch.GetTimestamp() - start);
            Interlocked.Increment(ref _count);
        }

        public ValueTask<SnapshotReader?> LoadLatestAsync(int shard, CancellationToken ct = default) => inner.LoadLatestAsync(shard, ct);
    }
}

internal readonly record struct JournalCounters(long Commits, long Records, long Bytes, long AppendTicks, long MaxAppendTicks, long Snapshots, long SnapshotTicks)
{
    public static JournalCounters operator -(JournalCounters a, JournalCounters b) => new(
        a.Commits - b.Commits, a.Records - b.Records, a.Bytes - b.Bytes, a.AppendTicks - b.AppendTicks, a.MaxAppendTicks, a.Snapshots - b.Snapshots,
        a.SnapshotTicks - b.SnapshotTicks);

    public double RecordsPerCommit => Commits == 0 ? 0 : (double)Records / Commits;
    public double BytesPerRecord => Records == 0 ? 0 : (double)Bytes / Records;
    public double MeanAppendMs => Commits == 0 ? 0 : AppendTicks * 1000.0 / Stopwatch.Frequency / Commits;
    public double AppendSeconds => AppendTicks / (double)Stopwatch.Frequency;
    public double SnapshotSeconds => SnapshotTicks / (double)Stopwatch.Frequency;
}
