using System.Diagnostics;
using System.Threading.Channels;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Silo.Persistence;
using Engine.Silo.Serialization;
using Engine.Silo.Telemetry;
using Microsoft.Extensions.Logging;

namespace Engine.Silo.Runtime;

/// <summary>
/// One shard: a mailbox and a single loop that owns the shard's grains. The loop takes what is in
/// the mailbox (up to a batch), runs it, journals all the batch's events with one append (group
/// commit), and only then answers the callers and publishes the events. When an append fails, the
/// shard refuses work (fast, with <see cref="StoreUnavailableException"/>) while it rebuilds itself from
/// the store in the background, retrying until the store answers, then resumes on the rebuilt state.
/// </summary>
internal sealed class ShardHost : IAsyncDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(5);

    private readonly Channel<ShardWork> _mailbox = Channel.CreateUnbounded<ShardWork>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IJournalStore _store;
    private readonly Func<ShardSnapshot?, ShardGrains> _build;
    private readonly Action<ShardHost> _recovered;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ISnapshotStore _snapshots;
    private IShardJournal _journal;
    private Task _recovery = Task.CompletedTask;
    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Action<IReadOnlyList<SequencedEvent>> _publish;
    private readonly Copy.CopyFanOut? _copy;
    private Task _loop = Task.CompletedTask;
    private long _eventsSinceSnapshot;
    private long _posted;
    private long _dequeued;
    private long _durable;
    private Exception? _fault;
    private Task<long>? _snapshotWrite;

    private ShardHost(int index, Loaded loaded, IJournalStore store, Func<ShardSnapshot?, ShardGrains> build, EngineOptions options,
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish, Action<ShardHost> recovered, Copy.CopyFanOut? copy)
    {
        Index = index;
        _copy = copy;
        Grains = loaded.Grains;
        _journal = loaded.Journal;
        _eventsSinceSnapshot = loaded.Replayed;
        _durable = loaded.Journal.LastSequence;
        _store = store;
        _build = build;
        _recovered = recovered;
        _snapshots = store.Snapshots;
        _options = options;
        _time = time;
        _log = log;
        _publish = publish;
    }

    public int Index { get; }

    /// <summary>
    /// Touch only from the loop (or before it starts). Replaced by the rebuilt grains after a recovery in place,
    /// so never keep a reference across loop items.
    /// </summary>
    internal ShardGrains Grains { get; private set; }

    /// <summary>True from a failed append until the shard has been rebuilt from the store.</summary>
    public bool Faulted => Volatile.Read(ref _fault) is not null;

    /// <summary>The journal sequence through which this shard's events are durable (and their callers answered or about to be).</summary>
    public long DurableSequence => Volatile.Read(ref _durable);

    /// <summary>Work items waiting in the mailbox (the shard mailbox depth gauge); a single-reader channel cannot count.</summary>
    public int MailboxDepth => (int)Math.Max(0, Volatile.Read(ref _posted) - Volatile.Read(ref _dequeued));

    /// <summary>
    /// Rebuilds the shard from its newest snapshot and the journal after it, then starts the loop.
    /// <paramref name="recovered"/> runs on the loop after each later recovery in place, with the new state.
    /// </summary>
    public static async Task<ShardHost> RecoverAsync(int index, IJournalStore store, Func<ShardSnapshot?, ShardGrains> build, EngineOptions options,
        TimeProvider time, ILogger log, Action<IReadOnlyList<SequencedEvent>> publish, CancellationToken ct, Action<ShardHost>? recovered = null,
        Copy.CopyFanOut? copy = null)
    {
        var loaded = await LoadAsync(index, store, build, log, ct);
        var host = new ShardHost(index, loaded, store, build, options, time, log, publish, recovered ?? (_ => { }), copy);
        host._loop = Task.Run(host.RunAsync, CancellationToken.None);
        return host;
    }

    /// <summary>Opens the shard's journal and builds its grains from the newest snapshot plus the journal after it.</summary>
    private static async Task<Loaded> LoadAsync(int index, IJournalStore store, Func<ShardSnapshot?, ShardGrains> build, ILogger log, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var journal = await store.OpenShardAsync(index, ct);
        try
        {
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
            return new Loaded(journal, grains, replayed);
        }
        catch
        {
            await journal.DisposeAsync();
            throw;
        }
    }

    public void Post(ShardWork work)
    {
        if (_mailbox.Writer.TryWrite(work)) Interlocked.Increment(ref _posted);
        else work.Complete(new StoreUnavailableException("the engine is stopping"));
    }

    /// <summary>Reads the shard's state on its loop.</summary>
    public Task<T> QueryAsync<T>(Func<ShardGrains, T> query)
    {
        var work = new QueryWork<T>(query);
        Post(work);
        return work.Task;
    }

    /// <summary>Sets (or, with <paramref name="halt"/> null, ends) a symbol's halt in this shard; completes once it is durable.</summary>
    public Task HaltAsync(string symbol, Engine.Grains.Risk.SymbolHalt? halt, string resumeReason)
    {
        var work = new HaltWork(symbol, halt, resumeReason);
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
        // A recovery still retrying gives up; one that finished after the loop ended disposes what it opened.
        await _stopping.CancelAsync();
        await _recovery;
        _stopping.Dispose();
        // While faulted, the failed journal was already released by the recovery.
        if (Volatile.Read(ref _fault) is not null) return;
        if (_eventsSinceSnapshot > 0) await SnapshotAsync();
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
            RecoveredWork? recovery = null;
            Grains.Recorded = current.Recorded;
            while (current.Work.Count < _options.MaxBatch && reader.TryRead(out var work))
            {
                if (work is RecoveredWork rebuilt)
                {
                    // The rebuilt state takes over after this batch (run on nothing: the shard was faulted) has failed.
                    recovery = rebuilt;
                    break;
                }

                current.Work.Add(work);
                Volatile.Write(ref _dequeued, _dequeued + 1);
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

            if (recovery is not null)
            {
                await commit;
                await ResumeAsync(recovery);
            }
            else if (snapshotRequest is not null)
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
                var started = Stopwatch.GetTimestamp();
                var last = await _journal.AppendAsync(batch.Encoder.Records());
                Volatile.Write(ref _durable, last);
                EngineTelemetry.JournalCommitLatency.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                EngineTelemetry.JournalBatchSize.Record(batch.Encoder.Count);
            }
            catch (Exception ex)
            {
                // Memory is now ahead of the journal: nothing more may be acknowledged from it. Whether this
                // batch is durable is unknown (an acknowledgement can be lost): the store settles it.
                Volatile.Write(ref _fault, ex);
                failure = new StoreUnavailableException("the journal could not be written", ex);
                _log.LogCritical(ex, "shard {Shard}: journal append failed; refusing work while the shard is rebuilt from the store", Index);
                _recovery = Task.Run(RecoverInPlaceAsync, CancellationToken.None);
            }
        }

        Complete(batch, failure);
    }

    private void Complete(Batch batch, Exception? failure)
    {
        // Publish before answering: a client that got its 201 must find its new API key registered.
        // Both read the batch's lists before they return (a fan-out's batch would copy thousands of entries, a
        // large-object-heap array, for nothing).
        if (failure is null && batch.Recorded.Count > 0) _publish(batch.Recorded);
        // Durable now: the signals may leave for their follower shards.
        if (failure is null && batch.Deliveries.Count > 0) _copy!.Deliver(batch.Deliveries);
        foreach (var work in batch.Work) work.Complete(failure);
        batch.Clear();
    }

    /// <summary>What every caller gets once an append has failed: memory is ahead of the journal.</summary>
    private static StoreUnavailableException Failed(Exception fault) =>
        new("the store is unavailable; the shard is recovering", fault);

    /// <summary>
    /// Off the loop, after a failed append: releases the failed journal, then retries (with backoff, on the real
    /// clock) opening the shard from the store exactly as at start, and hands the result to the loop.
    /// </summary>
    private async Task RecoverInPlaceAsync()
    {
        // The loop no longer touches the journal while faulted (appends fail fast, truncation and capture are skipped).
        try
        {
            await _journal.DisposeAsync();
        }
        catch (Exception ex)
        {
            _log.LogWarning(ex, "shard {Shard}: releasing the failed journal failed", Index);
        }

        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var loaded = await LoadAsync(Index, _store, _build, _log, _stopping.Token);
                Post(new RecoveredWork(loaded));
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _log.LogWarning("shard {Shard}: store still unavailable (attempt {Attempt}: {Error}); retrying in {Delay} ms",
                    Index, attempt, ex.Message, (int)delay.TotalMilliseconds);
            }

            try
            {
                await Task.Delay(delay, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
        }
    }

    /// <summary>On the loop, with no append in flight: the rebuilt state replaces the failed one and work resumes.</summary>
    private async Task ResumeAsync(RecoveredWork recovery)
    {
        // A snapshot being written was captured from durable state before the failure: let it finish.
        await FinishSnapshotWriteAsync();
        var loaded = recovery.Take();
        _journal = loaded.Journal;
        Grains = loaded.Grains;
        _eventsSinceSnapshot = loaded.Replayed;
        Volatile.Write(ref _durable, _journal.LastSequence);
        Volatile.Write(ref _fault, null);
        _log.LogWarning("shard {Shard}: rebuilt from the store at sequence {Sequence}; accepting work again", Index, _journal.LastSequence);
        _recovered(this);
    }

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
            // After a failed append the journal is being replaced; the next snapshot discards instead.
            if (Volatile.Read(ref _fault) is null) await _journal.TruncateBeforeAsync(sequence, CancellationToken.None);
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

    /// <summary>What a load from the store produced: the reopened journal and the grains rebuilt from it.</summary>
    private sealed record Loaded(IShardJournal Journal, ShardGrains Grains, long Replayed);

    /// <summary>The rebuilt state, posted to the loop; disposed if the loop never takes it (the engine stopped).</summary>
    private sealed class RecoveredWork(Loaded loaded) : ShardWork
    {
        private int _taken;

        public Loaded Take()
        {
            Interlocked.Exchange(ref _taken, 1);
            return loaded;
        }

        public override void Run(ShardGrains grains, DateTimeOffset now, List<EngineEvent> events)
        {
        }

        public override void Complete(Exception? failure)
        {
            if (Interlocked.Exchange(ref _taken, 1) == 0) _ = loaded.Journal.DisposeAsync().AsTask();
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
