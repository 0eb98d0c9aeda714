using System.Diagnostics;
using System.Threading.Channels;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Silo.Persistence;
using Engine.Silo.Serialization;
using Microsoft.Extensions.Logging;

namespace Engine.Silo.Runtime;

/// <summary>
/// One shard: a mailbox and a single loop that owns the shard's grains. The loop takes what is in
/// the mailbox (up to a batch), runs it, journals all the batch's events with one append (group
/// commit), and only then answers the callers and publishes the events.
/// </summary>
internal sealed class ShardHost : IAsyncDisposable
{
    private readonly Channel<ShardWork> _mailbox = Channel.CreateUnbounded<ShardWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IShardJournal _journal;
    private readonly ISnapshotStore _snapshots;
    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Action<IReadOnlyList<SequencedEvent>> _publish;
    private Task _loop = Task.CompletedTask;
    private long _eventsSinceSnapshot;
    private Exception? _fault;

    private ShardHost(int index, ShardGrains grains, IShardJournal journal, ISnapshotStore snapshots, EngineOptions options,
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish)
    {
        Index = index;
        Grains = grains;
        _journal = journal;
        _snapshots = snapshots;
        _options = options;
        _time = time;
        _log = log;
        _publish = publish;
    }

    public int Index { get; }

    /// <summary>Touch only from the loop (or before it starts).</summary>
    internal ShardGrains Grains { get; }

    public bool Faulted => _fault is not null;

    /// <summary>Rebuilds the shard from its newest snapshot and the journal after it, then starts the loop.</summary>
    public static async Task<ShardHost> RecoverAsync(int index, IJournalStore store, Func<ShardSnapshot?, ShardGrains> build, EngineOptions options,
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var journal = await store.OpenShardAsync(index, ct);
        ShardGrains grains;
        long after = 0;
        await using (var snapshot = await store.Snapshots.LoadLatestAsync(index, ct))
        {
            grains = build(snapshot is null ? null : ShardSnapshotCodec.Read(snapshot.Content));
            after = snapshot?.Sequence ?? 0;
        }

        long replayed = 0;
        await foreach (var record in journal.ReadAsync(after, ct))
        {
            grains.Apply(JournalEventCodec.Deserialize(record.Payload));
            replayed++;
        }

        log.LogInformation("shard {Shard}: recovered {Accounts} accounts and {Orders} orders from snapshot {Snapshot} + {Replayed} events in {Elapsed} ms",
            index, grains.Accounts.Count, grains.Orders.Count, after, replayed, watch.ElapsedMilliseconds);
        var host = new ShardHost(index, grains, journal, store.Snapshots, options, time, log, publish) { _eventsSinceSnapshot = replayed };
        host._loop = Task.Run(host.RunAsync, CancellationToken.None);
        return host;
    }

    public void Post(ShardWork work)
    {
        if (!_mailbox.Writer.TryWrite(work)) work.Complete(new StoreUnavailableException("the engine is stopping"));
    }

    /// <summary>Stops taking work, finishes what is queued, and writes a final snapshot.</summary>
    public async ValueTask DisposeAsync()
    {
        _mailbox.Writer.TryComplete();
        await _loop;
        if (_fault is null && _eventsSinceSnapshot > 0) await SnapshotAsync(CancellationToken.None);
        await _journal.DisposeAsync();
    }

    /// <summary>Writes a snapshot now (from the loop: callers post a query that calls this).</summary>
    internal async Task SnapshotAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var sequence = _journal.LastSequence;
        var state = Grains.Capture();
        await _snapshots.SaveAsync(Index, sequence, (stream, _) =>
        {
            ShardSnapshotCodec.Write(stream, state);
            return ValueTask.CompletedTask;
        }, ct);
        await _journal.TruncateBeforeAsync(sequence, ct);
        _eventsSinceSnapshot = 0;
        _log.LogInformation("shard {Shard}: snapshot at {Sequence} in {Elapsed} ms", Index, sequence, watch.ElapsedMilliseconds);
    }

    private async Task RunAsync()
    {
        var reader = _mailbox.Reader;
        var batch = new List<ShardWork>(_options.MaxBatch);
        var events = new List<EngineEvent>(1024);
        var recorded = new List<SequencedEvent>(1024);
        var records = new List<ReadOnlyMemory<byte>>(1024);
        Grains.Recorded = recorded;
        while (await reader.WaitToReadAsync())
        {
            var now = _time.GetUtcNow();
            while (batch.Count < _options.MaxBatch && reader.TryRead(out var work))
            {
                batch.Add(work);
                if (_fault is null) work.Run(Grains, now, events);
            }

            var failure = _fault is null ? null : new StoreUnavailableException("the shard's journal failed; restart the engine", _fault);
            if (failure is null && events.Count > 0)
            {
                try
                {
                    foreach (var e in events) records.Add(JournalEventCodec.Serialize(e));
                    await _journal.AppendAsync(records);
                    _eventsSinceSnapshot += events.Count;
                }
                catch (Exception ex)
                {
                    // Memory is now ahead of the journal: nothing more may be acknowledged from it.
                    _fault = ex;
                    failure = new StoreUnavailableException("the journal could not be written", ex);
                    _log.LogCritical(ex, "shard {Shard}: journal append failed; the shard stops accepting work", Index);
                }
            }

            // Publish before answering: a client that got its 201 must find its new API key registered.
            if (failure is null && recorded.Count > 0) _publish(recorded.ToArray());
            foreach (var work in batch) work.Complete(failure);
            batch.Clear();
            events.Clear();
            records.Clear();
            recorded.Clear();

            if (_fault is null && _eventsSinceSnapshot >= _options.SnapshotEveryEvents)
            {
                try
                {
                    await SnapshotAsync(CancellationToken.None);
                }
                catch (Exception ex)
                {
                    _log.LogError(ex, "shard {Shard}: snapshot failed; the journal still holds everything", Index);
                }
            }
        }
    }
}
