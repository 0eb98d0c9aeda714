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
    private readonly Copy.CopyFanOut? _copy;
    private Task _loop = Task.CompletedTask;
    private long _eventsSinceSnapshot;
    private Exception? _fault;
    private Task<long>? _snapshotWrite;

    private ShardHost(int index, ShardGrains grains, IShardJournal journal, ISnapshotStore snapshots, EngineOptions options,
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish, Copy.CopyFanOut? copy)
    {
        Index = index;
        _copy = copy;
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
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish, CancellationToken ct, Copy.CopyFanOut? copy = null)
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
        var host = new ShardHost(index, grains, journal, store.Snapshots, options, time, log, publish, copy) { _eventsSinceSnapshot = replayed };
        host._loop = Task.Run(host.RunAsync, CancellationToken.None);
        return host;
    }

    public void Post(ShardWork work)
    {
        if (!_mailbox.Writer.TryWrite(work)) work.Complete(new StoreUnavailableException("the engine is stopping"));
    }

    /// <summary>Reads the shard's state on its loop.</summary>
    public Task<T> QueryAsync<T>(Func<ShardGrains, T> query)
    {
        var work = new QueryWork<T>(query);
        Post(work);
        return work.Task;
    }

    /// <summary>Snapshots the shard once everything posted before this call is durable.</summary>
    public Task SnapshotNowAsync()
    {
        var work = new SnapshotWork();
        Post(work);
        return work.Task;
    }

    /// <summary>Stops taking work, finishes what is queued, and writes a final snapshot.</summary>
    public async ValueTask DisposeAsync()
    {
        _mailbox.Writer.TryComplete();
        await _loop;
        if (Volatile.Read(ref _fault) is null && _eventsSinceSnapshot > 0) await SnapshotAsync();
        await _journal.DisposeAsync();
    }

    /// <summary>
    /// The loop. Batch N+1 runs while batch N is being written and fsynced (pipelined group commit);
    /// appends stay one at a time and in order, and each caller is answered only after its own batch
    /// is durable, so durable-before-acknowledged holds. A batch that ran while an earlier append
    /// failed is never journaled: its callers get the failure too.
    /// </summary>
    private async Task RunAsync()
    {
        var reader = _mailbox.Reader;
        var current = new Batch(_options.MaxBatch);
        var spare = new Batch(_options.MaxBatch);
        Task commit = Task.CompletedTask;
        while (await reader.WaitToReadAsync())
        {
            var faulted = Volatile.Read(ref _fault) is not null;
            SnapshotWork? snapshotRequest = null;
            Grains.Recorded = current.Recorded;
            while (current.Work.Count < _options.MaxBatch && reader.TryRead(out var work))
            {
                current.Work.Add(work);
                if (work is SnapshotWork request)
                {
                    // Taken after this batch: the batch ends here so the snapshot sees nothing after the request.
                    snapshotRequest = request;
                    break;
                }

                // Each item at the time it is run, not when its batch began: a batch keeps taking what
                // arrives while it runs, and a command must not be dated before it was sent.
                if (!faulted) work.Run(Grains, _time.GetUtcNow(), current.Events);
            }

            if (!faulted)
            {
                // On the loop, while the state is the batch's: which follower shards get the signals it journaled.
                if (_copy is not null && current.Events.Count != 0) _copy.Collect(Grains, Index, current.Events, current.Deliveries);
                foreach (var e in current.Events) current.Encoder.Add(e);
                _eventsSinceSnapshot += current.Events.Count;
            }

            // The previous batch is durable (or failed) once this returns, and its buffers are free again.
            await commit;
            var batch = current;
            if (batch.Encoder.Count == 0 && Volatile.Read(ref _fault) is null)
            {
                // Nothing to write and no failure: answer on the loop, no thread hop (reads, quiet ticks).
                Complete(batch, null);
                commit = Task.CompletedTask;
            }
            else
            {
                commit = Task.Run(() => CommitAsync(batch));
            }

            (current, spare) = (spare, current);

            if (snapshotRequest is not null)
            {
                await commit;
                await FinishSnapshotWriteAsync();
                await snapshotRequest.RunAsync(this);
            }
            else if (_snapshotWrite is { IsCompleted: true })
            {
                await commit;
                await FinishSnapshotWriteAsync();
            }
            else if (_snapshotWrite is null && _eventsSinceSnapshot >= _options.SnapshotEveryEvents && Volatile.Read(ref _fault) is null)
            {
                // Captured on the loop (a copy of the mutable state), written on the side: the loop goes on.
                await commit;
                var (state, sequence) = Capture();
                _snapshotWrite = Task.Run(() => WriteSnapshotAsync(state, sequence));
            }
        }

        await commit;
        await FinishSnapshotWriteAsync();
    }

    private async Task CommitAsync(Batch batch)
    {
        Exception? failure = null;
        if (Volatile.Read(ref _fault) is { } fault)
        {
            failure = Failed(fault);
        }
        else
        {
            try
            {
                await _journal.AppendAsync(batch.Encoder.Records());
            }
            catch (Exception ex)
            {
                // Memory is now ahead of the journal: nothing more may be acknowledged from it.
                Volatile.Write(ref _fault, ex);
                failure = new StoreUnavailableException("the journal could not be written", ex);
                _log.LogCritical(ex, "shard {Shard}: journal append failed; the shard stops accepting work", Index);
            }
        }

        Complete(batch, failure);
    }

    private void Complete(Batch batch, Exception? failure)
    {
        // Publish before answering: a client that got its 201 must find its new API key registered.
        if (failure is null && batch.Recorded.Count > 0) _publish(batch.Recorded.ToArray());
        // Durable now: the signals may leave for their follower shards.
        if (failure is null && batch.Deliveries.Count > 0) _copy!.Deliver(batch.Deliveries.ToArray());
        foreach (var work in batch.Work) work.Complete(failure);
        batch.Clear();
    }

    /// <summary>What every caller gets once an append has failed: memory is ahead of the journal.</summary>
    private static StoreUnavailableException Failed(Exception fault) =>
        new("the shard's journal failed; restart the engine", fault);

    /// <summary>Writes a snapshot now; only from the loop between batches, with no append in flight.</summary>
    private async Task SnapshotAsync()
    {
        await FinishSnapshotWriteAsync();
        var (state, sequence) = Capture();
        _snapshotWrite = WriteSnapshotAsync(state, sequence);
        await FinishSnapshotWriteAsync();
    }

    private (ShardSnapshot State, long Sequence) Capture()
    {
        var watch = Stopwatch.StartNew();
        var sequence = _journal.LastSequence;
        var state = Grains.Capture();
        _eventsSinceSnapshot = 0;
        _log.LogInformation("shard {Shard}: state at {Sequence} captured in {Elapsed} ms", Index, sequence, watch.ElapsedMilliseconds);
        return (state, sequence);
    }

    private async Task<long> WriteSnapshotAsync(ShardSnapshot state, long sequence)
    {
        var watch = Stopwatch.StartNew();
        await _snapshots.SaveAsync(Index, sequence, (stream, _) =>
        {
            ShardSnapshotCodec.Write(stream, state);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        _log.LogInformation("shard {Shard}: snapshot at {Sequence} written in {Elapsed} ms", Index, sequence, watch.ElapsedMilliseconds);
        return sequence;
    }

    /// <summary>
    /// Waits for the snapshot being written, then drops the journal it covers. From the loop with no
    /// append in flight: the journal has one writer at a time.
    /// </summary>
    private async Task FinishSnapshotWriteAsync()
    {
        if (_snapshotWrite is not { } write) return;
        _snapshotWrite = null;
        try
        {
            var sequence = await write;
            await _journal.TruncateBeforeAsync(sequence, CancellationToken.None);
        }
        catch (Exception ex)
        {
            _log.LogError(ex, "shard {Shard}: snapshot failed; the journal still holds everything", Index);
        }
    }

    /// <summary>The buffers of one batch; two alternate, one running while the other commits.</summary>
    private sealed class Batch(int capacity)
    {
        public List<ShardWork> Work { get; } = new(capacity);
        public List<EngineEvent> Events { get; } = new(1024);
        public List<SequencedEvent> Recorded { get; } = new(1024);
        public JournalBatchEncoder Encoder { get; } = new();
        public List<Copy.CopyDelivery> Deliveries { get; } = [];

        public void Clear()
        {
            Deliveries.Clear();
            Work.Clear();
            Events.Clear();
            Recorded.Clear();
            Encoder.Clear();
        }
    }

    /// <summary>A request to snapshot: the loop takes it after the batch before it is durable.</summary>
    private sealed class SnapshotWork : ShardWork
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Task => _done.Task;

        public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
        {
        }

        public async Task RunAsync(ShardHost host)
        {
            try
            {
                if (Volatile.Read(ref host._fault) is { } fault) throw Failed(fault);
                await host.SnapshotAsync();
                _done.TrySetResult();
            }
            catch (Exception ex)
            {
                _done.TrySetException(ex);
            }
        }

        public override void Complete(Exception? failure)
        {
            if (failure is not null) _done.TrySetException(failure);
        }
    }
}
