using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Silo;
using Engine.Silo.Persistence;
using Engine.Silo.Runtime;
using Microsoft.Extensions.Logging.Abstractions;

namespace Engine.Tests.Silo;

/// <summary>
/// The shard loop's group commit is pipelined: the next batch runs while the previous one is being
/// written. These pin what that must not change: nobody is answered before their own batch is
/// durable, and nothing that ran after a failed append is ever acknowledged or journaled.
/// </summary>
public sealed class ShardCommitTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "engine-commit-tests", Guid.NewGuid().ToString("N"));
    private readonly AccountId _account = new("acc-1");

    [Fact]
    public async Task Send_WhileTheEarlierAppendIsInFlight_IsAnsweredOnlyAfterItsOwnAppend()
    {
        var store = new GatedStore(new FileJournalStore(_dir));
        await using var silo = await StartAsync(store);
        await Must(silo.SendAsync(new CommandEnvelope(new OpenAccount("a", "hash") { Account = _account })));

        var first = store.HoldNext();
        var deposit1 = silo.SendAsync(new CommandEnvelope(new Deposit(100m) { Account = _account }));
        await first.Started.Task.WaitAsync(Wait);
        var second = store.HoldNext();
        var deposit2 = silo.SendAsync(new CommandEnvelope(new Deposit(20m) { Account = _account }));

        // The second deposit runs while the first append is held, but neither is answered.
        var balance = silo.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance);
        Assert.False(deposit1.IsCompleted);
        Assert.False(deposit2.IsCompleted);

        first.Release();
        await Must(deposit1);
        await second.Started.Task.WaitAsync(Wait);
        Assert.False(deposit2.IsCompleted);
        Assert.False(balance.IsCompleted);

        second.Release();
        await Must(deposit2);
        Assert.Equal(120m, await balance.WaitAsync(Wait));
        Assert.Equal(3, store.Appends);
    }

    [Fact]
    public async Task Send_AfterAnAppendFailed_FailsAndIsNeverJournaled()
    {
        var store = new GatedStore(new FileJournalStore(_dir));
        await using (var silo = await StartAsync(store))
        {
            await Must(silo.SendAsync(new CommandEnvelope(new OpenAccount("a", "hash") { Account = _account })));
            await Must(silo.SendAsync(new CommandEnvelope(new Deposit(100m) { Account = _account })));

            var failing = store.HoldNext();
            var lost = silo.SendAsync(new CommandEnvelope(new Deposit(7m) { Account = _account }));
            await failing.Started.Task.WaitAsync(Wait);
            var after = silo.SendAsync(new CommandEnvelope(new Deposit(9m) { Account = _account }));
            var read = silo.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance);
            // The store stays down: the shard cannot rebuild itself, so it keeps refusing.
            store.OpensFail = true;
            failing.Fail(new IOException("disk gone"));

            await Assert.ThrowsAsync<StoreUnavailableException>(() => lost.WaitAsync(Wait));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => after.WaitAsync(Wait));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => read.WaitAsync(Wait));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => silo.SendAsync(new CommandEnvelope(new Deposit(1m) { Account = _account })).WaitAsync(Wait));
            Assert.False(silo.Healthy);
            Assert.Equal(3, store.Appends);
        }

        await using var restarted = await StartAsync(new FileJournalStore(_dir));
        Assert.Equal(100m, await restarted.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance).WaitAsync(Wait));
    }

    [Fact]
    public async Task Send_AfterTheStoreIsBack_ShardRecoversByItselfFromDurableState()
    {
        var store = new GatedStore(new FileJournalStore(_dir));
        await using (var silo = await StartAsync(store))
        {
            await Must(silo.SendAsync(new CommandEnvelope(new OpenAccount("a", "hash") { Account = _account })));
            await Must(silo.SendAsync(new CommandEnvelope(new Deposit(100m) { Account = _account })));
            store.OpensFail = true;
            var failing = store.HoldNext();
            var lost = silo.SendAsync(new CommandEnvelope(new Deposit(7m) { Account = _account }));
            await failing.Started.Task.WaitAsync(Wait);
            var after = silo.SendAsync(new CommandEnvelope(new Deposit(9m) { Account = _account }));
            failing.Fail(new IOException("disk gone"));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => lost.WaitAsync(Wait));
            await Assert.ThrowsAsync<StoreUnavailableException>(() => after.WaitAsync(Wait));
            await WaitUntilAsync(() => store.FailedOpens >= 2, "the shard did not retry opening the store");
            Assert.False(silo.Healthy);

            store.OpensFail = false;
            await WaitUntilAsync(() => silo.Healthy, "the shard did not recover after the store came back");

            // Neither failed deposit exists; the engine goes on from the durable state, without a restart.
            Assert.Equal(100m, await silo.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance).WaitAsync(Wait));
            await Must(silo.SendAsync(new CommandEnvelope(new Deposit(5m) { Account = _account })));
            Assert.Equal(105m, await silo.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance).WaitAsync(Wait));
        }

        await using var restarted = await StartAsync(new FileJournalStore(_dir));
        Assert.Equal(105m, await restarted.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance).WaitAsync(Wait));
    }

    [Fact]
    public async Task Send_AckLostButBatchDurable_RecoveryKeepsItAndRegistersItsAccount()
    {
        var store = new GatedStore(new FileJournalStore(_dir));
        await using var silo = await StartAsync(store);
        await Must(silo.SendAsync(new CommandEnvelope(new OpenAccount("a", "hash") { Account = _account })));
        var other = new AccountId("acc-2");
        var failing = store.HoldNext();
        failing.FailAfterWriting = true;
        var opened = silo.SendAsync(new CommandEnvelope(new OpenAccount("b", AccountDirectory.Hash("key-b")) { Account = other }));
        await failing.Started.Task.WaitAsync(Wait);
        failing.Fail(new IOException("connection lost before the answer"));

        await Assert.ThrowsAsync<StoreUnavailableException>(() => opened.WaitAsync(Wait));
        await WaitUntilAsync(() => silo.Healthy, "the shard did not recover");

        // The store holds the batch the caller was told failed: the rebuilt shard has it, and the node knows its key.
        Assert.NotNull(await silo.QueryAsync(other, g => g.FindAccount(other)).WaitAsync(Wait));
        Assert.Equal(other, silo.Directory.Find("key-b"));
    }

    [Fact]
    public async Task SnapshotAll_AfterCommands_CoversEveryAcknowledgedCommand()
    {
        await using (var silo = await StartAsync(new FileJournalStore(_dir)))
        {
            await Must(silo.SendAsync(new CommandEnvelope(new OpenAccount("a", "hash") { Account = _account })));
            var deposits = Enumerable.Range(1, 50).Select(i => silo.SendAsync(new CommandEnvelope(new Deposit(i) { Account = _account }))).ToArray();
            await silo.SnapshotAllAsync().WaitAsync(Wait);
            foreach (var d in deposits) await Must(d);
        }

        // The snapshot was taken after every command posted before it was durable: it covers the whole journal.
        var store = new FileJournalStore(_dir);
        await using (var journal = await store.OpenShardAsync(0))
        await using (var snapshot = await store.Snapshots.LoadLatestAsync(0))
        {
            Assert.NotNull(snapshot);
            Assert.True(journal.LastSequence >= 51);
            Assert.Equal(journal.LastSequence, snapshot.Sequence);
        }

        await store.DisposeAsync();
        await using var restarted = await StartAsync(new FileJournalStore(_dir));
        Assert.Equal(1275m, await restarted.QueryAsync(_account, g => g.FindAccount(_account)!.WalletBalance).WaitAsync(Wait));
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }

    private Task<EngineSilo> StartAsync(IJournalStore store) => EngineSilo.StartAsync(new EngineOptions
    {
        DataDirectory = _dir,
        Shards = 1,
        OperatorApiKey = "operator",
        SimulatedFeed = new SimulatedFeedOptions { Enabled = false },
    }, TimeProvider.System, NullLoggerFactory.Instance, store: store);

    /// <summary>Polls a condition the engine reaches on its own (recovery retries on the real clock), bounded.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Wait, failure);
            await Task.Delay(20);
        }
    }

    private static async Task Must(Task<CommandOutcome> outcome)
    {
        var result = (await outcome.WaitAsync(Wait)).Result;
        Assert.True(result.Succeeded, result.Rejection?.ToString());
    }

    /// <summary>
    /// The file store, with a way to hold the next append open and then let it finish or fail (before or after
    /// writing), and to make opening a shard fail (the store is down).
    /// </summary>
    private sealed class GatedStore(FileJournalStore inner) : IJournalStore
    {
        private Gate? _next;
        private int _appends;
        private int _failedOpens;

        public int Appends => Volatile.Read(ref _appends);

        public int FailedOpens => Volatile.Read(ref _failedOpens);

        public bool OpensFail { get; set; }

        public ISnapshotStore Snapshots => inner.Snapshots;

        public Gate HoldNext() => _next = new Gate();

        public async ValueTask<IShardJournal> OpenShardAsync(int shard, CancellationToken ct = default)
        {
            if (OpensFail)
            {
                Interlocked.Increment(ref _failedOpens);
                throw new IOException("the store is down");
            }

            return new Journal(await inner.OpenShardAsync(shard, ct), this);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private sealed class Journal(IShardJournal journal, GatedStore owner) : IShardJournal
        {
            public int Shard => journal.Shard;

            public long LastSequence => journal.LastSequence;

            public IAsyncEnumerable<JournalRecord> ReadAsync(long afterSequence, CancellationToken ct = default) => journal.ReadAsync(afterSequence, ct);

            public async ValueTask<long> AppendAsync(IReadOnlyList<ReadOnlyMemory<byte>> records, CancellationToken ct = default)
            {
                Interlocked.Increment(ref owner._appends);
                if (Interlocked.Exchange(ref owner._next, null) is { } gate)
                {
                    gate.Started.TrySetResult();
                    if (gate.FailAfterWriting)
                    {
                        // Durable, but the caller hears of a failure (a lost commit acknowledgement).
                        await journal.AppendAsync(records, ct);
                        await gate.Outcome.Task;
                    }

                    await gate.Outcome.Task;
                }

                return await journal.AppendAsync(records, ct);
            }

            public ValueTask TruncateBeforeAsync(long sequence, CancellationToken ct = default) => journal.TruncateBeforeAsync(sequence, ct);

            public ValueTask DisposeAsync() => journal.DisposeAsync();
        }
    }

    private sealed class Gate
    {
        /// <summary>The held append writes its records, then fails with the given error.</summary>
        public bool FailAfterWriting { get; set; }

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => Outcome.TrySetResult();

        public void Fail(Exception error) => Outcome.TrySetException(error);
    }
}
