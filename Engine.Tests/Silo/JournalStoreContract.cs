using System.Buffers.Binary;
using Engine.Silo.Persistence;

namespace Engine.Tests.Silo;

/// <summary>
/// The behaviour every <see cref="IJournalStore"/> must have. An implementation's test class inherits this
/// and only says how to create a store; every fact here then runs against that implementation.
/// </summary>
public abstract class JournalStoreContract : IAsyncLifetime
{
    private readonly List<IJournalStore> _stores = [];

    /// <summary>
    /// Creates the store called <paramref name="name"/>, or reopens it when this test already created a store
    /// of that name (a restart: the previous instance has been disposed, and everything it made durable must
    /// be visible). Stores of different names never share data, and no data leaks between tests.
    /// </summary>
    protected abstract Task<IJournalStore> CreateStoreAsync(string name);

    public virtual Task InitializeAsync() => Task.CompletedTask;

    /// <summary>Disposes every store the test opened; implementations release their own resources after calling it.</summary>
    public virtual async Task DisposeAsync()
    {
        foreach (IJournalStore store in _stores)
        {
            await store.DisposeAsync();
        }

        _stores.Clear();
    }

    [Fact]
    public async Task AppendAsync_Batches_AssignContiguousSequencesReadBackInOrder()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);

        long first = await journal.AppendAsync(Batch(0, 1, 3));
        long second = await journal.AppendAsync(Batch(0, 4, 2));

        Assert.Equal(3, first);
        Assert.Equal(5, second);
        Assert.Equal(5, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 5);
    }

    [Fact]
    public async Task OpenShardAsync_NewShard_IsEmpty()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(0, journal.LastSequence);
        Assert.Empty(await ReadAllAsync(journal));
    }

    [Fact]
    public async Task LastSequence_AfterReopen_IsPreservedAndAppendsContinue()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        await journal.AppendAsync(Batch(0, 1, 4));
        await journal.AppendAsync(Batch(0, 5, 3));
        await journal.DisposeAsync();

        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);

        Assert.Equal(7, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 7);
        Assert.Equal(8, await journal.AppendAsync(Batch(0, 8, 1)));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 8);
    }

    [Fact]
    public async Task ReadAsync_AfterSequence_SkipsEarlierRecords()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        await journal.AppendAsync(Batch(0, 1, 6));
        await journal.AppendAsync(Batch(0, 7, 4));

        AssertRecords(await ReadAllAsync(journal, after: 4), shard: 0, first: 5, last: 10);
        AssertRecords(await ReadAllAsync(journal, after: 9), shard: 0, first: 10, last: 10);
        Assert.Empty(await ReadAllAsync(journal, after: 10));
        Assert.Empty(await ReadAllAsync(journal, after: 25));
    }

    [Fact]
    public async Task AppendAsync_EmptyBatch_IsNoOp()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(0, await journal.AppendAsync([]));
        await journal.AppendAsync(Batch(0, 1, 2));
        Assert.Equal(2, await journal.AppendAsync(Array.Empty<ReadOnlyMemory<byte>>()));
        Assert.Equal(2, journal.LastSequence);
        await journal.DisposeAsync();

        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);
        Assert.Equal(2, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 2);
    }

    [Fact]
    public async Task AppendAsync_CancelledToken_ThrowsAndAppendsNothing()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        await journal.AppendAsync(Batch(0, 1, 2));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            async () => await journal.AppendAsync(Batch(0, 3, 2), new CancellationToken(canceled: true)));

        Assert.Equal(2, journal.LastSequence);
        Assert.Equal(3, await journal.AppendAsync(Batch(0, 3, 1)));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 3);
    }

    [Fact]
    public async Task AppendAsync_VariedPayloadSizes_RoundTripExactly()
    {
        int[] sizes = [0, 1, 7, 8, 9, 63, 4096, 1 << 20];
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);

        await journal.AppendAsync(sizes.Select((size, i) => (ReadOnlyMemory<byte>)Payload(0, i + 1, size)).ToArray());
        await journal.DisposeAsync();
        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);

        List<JournalRecord> records = await ReadAllAsync(journal);
        Assert.Equal(sizes.Length, records.Count);
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(i + 1, records[i].Sequence);
            Assert.Equal(Payload(0, i + 1, sizes[i]), records[i].Payload.ToArray());
        }
    }

    [Fact]
    public async Task AppendAsync_LargeBatch_AllRecordsDurableAndReadBack()
    {
        const int count = 10_000;
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        ReadOnlyMemory<byte>[] batch = Enumerable.Range(1, count)
            .Select(n => (ReadOnlyMemory<byte>)Payload(0, n, 50 + (n * 37 % 451)))
            .ToArray();

        Assert.Equal(count, await journal.AppendAsync(batch));
        await journal.DisposeAsync();
        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);

        Assert.Equal(count, journal.LastSequence);
        List<JournalRecord> records = await ReadAllAsync(journal);
        Assert.Equal(count, records.Count);
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(i + 1, records[i].Sequence);
            Assert.True(batch[i].Span.SequenceEqual(records[i].Payload.Span), $"payload of record {i + 1} differs");
        }
    }

    [Fact]
    public async Task OpenShardAsync_SeveralShards_AreIndependent()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal zero = await store.OpenShardAsync(0);
        IShardJournal one = await store.OpenShardAsync(1);
        IShardJournal seven = await store.OpenShardAsync(7);

        await zero.AppendAsync(Batch(0, 1, 3));
        await seven.AppendAsync(Batch(7, 1, 5));
        await zero.AppendAsync(Batch(0, 4, 1));

        Assert.Equal(4, zero.LastSequence);
        Assert.Equal(0, one.LastSequence);
        Assert.Equal(5, seven.LastSequence);
        AssertRecords(await ReadAllAsync(zero), shard: 0, first: 1, last: 4);
        Assert.Empty(await ReadAllAsync(one));
        AssertRecords(await ReadAllAsync(seven), shard: 7, first: 1, last: 5);
    }

    [Fact]
    public async Task CreateStoreAsync_DifferentNames_DoNotShareData()
    {
        IJournalStore a = await OpenAsync("a");
        IJournalStore b = await OpenAsync("b");
        IShardJournal journalA = await a.OpenShardAsync(0);
        await journalA.AppendAsync(Batch(0, 1, 2));
        await a.Snapshots.SaveAsync(0, 2, WriteText("a"));

        IShardJournal journalB = await b.OpenShardAsync(0);

        Assert.Equal(0, journalB.LastSequence);
        Assert.Null(await b.Snapshots.LoadLatestAsync(0));
    }

    [Fact]
    public async Task AppendAsync_ConcurrentShardsOnDifferentThreads_AllRecordsDurable()
    {
        const int shards = 4;
        const int batches = 50;
        const int perBatch = 20;
        IJournalStore store = await OpenAsync("a");
        IShardJournal[] journals = await Task.WhenAll(Enumerable.Range(0, shards).Select(s => store.OpenShardAsync(s).AsTask()));
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        Task[] writers = journals.Select(journal => Task.Run(async () =>
        {
            await start.Task;
            for (int b = 0; b < batches; b++)
            {
                long last = await journal.AppendAsync(Batch(journal.Shard, (b * perBatch) + 1, perBatch));
                Assert.Equal((b + 1) * perBatch, last);
            }
        })).ToArray();
        start.SetResult();
        await Task.WhenAll(writers);
        foreach (IShardJournal journal in journals)
        {
            await journal.DisposeAsync();
        }

        store = await RestartAsync(store, "a");
        for (int s = 0; s < shards; s++)
        {
            IShardJournal journal = await store.OpenShardAsync(s);
            Assert.Equal(batches * perBatch, journal.LastSequence);
            AssertRecords(await ReadAllAsync(journal), shard: s, first: 1, last: batches * perBatch);
        }
    }

    [Fact]
    public async Task TruncateBeforeAsync_AfterSnapshot_KeepsLaterRecordsReadable()
    {
        IJournalStore store = await OpenAsync("a");
        IShardJournal journal = await store.OpenShardAsync(0);
        for (int b = 0; b < 5; b++)
        {
            await journal.AppendAsync(Batch(0, (b * 1000) + 1, 1000));
        }

        await store.Snapshots.SaveAsync(0, 2000, WriteText("at 2000"));
        await journal.TruncateBeforeAsync(2000);
        await store.Snapshots.SaveAsync(0, 3000, WriteText("at 3000"));
        await journal.TruncateBeforeAsync(3000);

        AssertRecords(await ReadAllAsync(journal, after: 3000), shard: 0, first: 3001, last: 5000);
        Assert.Equal(5001, await journal.AppendAsync(Batch(0, 5001, 1)));
        await journal.DisposeAsync();

        store = await RestartAsync(store, "a");
        journal = await store.OpenShardAsync(0);
        Assert.Equal(5001, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal, after: 3000), shard: 0, first: 3001, last: 5001);
    }

    [Fact]
    public async Task LoadLatestAsync_NoSnapshot_ReturnsNull()
    {
        IJournalStore store = await OpenAsync("a");

        Assert.Null(await store.Snapshots.LoadLatestAsync(0));
    }

    [Fact]
    public async Task SaveAsync_LargeStreamedContent_RoundTripsAcrossReopen()
    {
        byte[] content = new byte[3 * 1024 * 1024 + 17];
        new Random(42).NextBytes(content);
        IJournalStore store = await OpenAsync("a");

        await store.Snapshots.SaveAsync(0, 42, async (stream, ct) =>
        {
            // Uneven chunks, as a serializer would write them.
            for (int offset = 0; offset < content.Length; offset += 65_521)
            {
                await stream.WriteAsync(content.AsMemory(offset, Math.Min(65_521, content.Length - offset)), ct);
            }
        });
        store = await RestartAsync(store, "a");

        SnapshotReader? snapshot = await store.Snapshots.LoadLatestAsync(0);
        Assert.NotNull(snapshot);
        await using (snapshot)
        {
            Assert.Equal(42, snapshot.Sequence);
            Assert.Equal(content, await ReadToEndAsync(snapshot.Content));
        }
    }

    [Fact]
    public async Task LoadLatestAsync_SeveralSnapshots_NewestWins()
    {
        IJournalStore store = await OpenAsync("a");
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        await store.Snapshots.SaveAsync(0, 30, WriteText("thirty"));
        await store.Snapshots.SaveAsync(0, 20, WriteText("twenty"));

        await AssertSnapshotAsync(store, 0, 30, "thirty");
        await store.Snapshots.SaveAsync(0, 40, WriteText("forty"));
        await AssertSnapshotAsync(store, 0, 40, "forty");
    }

    [Fact]
    public async Task LoadLatestAsync_SeveralShards_EachSeesOnlyItsOwn()
    {
        IJournalStore store = await OpenAsync("a");
        await store.Snapshots.SaveAsync(1, 5, WriteText("one"));
        await store.Snapshots.SaveAsync(2, 9, WriteText("two"));

        await AssertSnapshotAsync(store, 1, 5, "one");
        await AssertSnapshotAsync(store, 2, 9, "two");
        Assert.Null(await store.Snapshots.LoadLatestAsync(3));
    }

    [Fact]
    public async Task SaveAsync_WriteCallbackThrows_PreviousSnapshotStaysLatest()
    {
        IJournalStore store = await OpenAsync("a");
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.Snapshots.SaveAsync(0, 20, async (stream, ct) =>
        {
            await stream.WriteAsync(new byte[1000], ct);
            throw new InvalidOperationException("serializer failed");
        }));

        await AssertSnapshotAsync(store, 0, 10, "ten");
        store = await RestartAsync(store, "a");
        await AssertSnapshotAsync(store, 0, 10, "ten");
    }

    /// <summary>Opens a store that the contract disposes at the end of the test.</summary>
    protected async Task<IJournalStore> OpenAsync(string name)
    {
        IJournalStore store = await CreateStoreAsync(name);
        _stores.Add(store);
        return store;
    }

    /// <summary>Simulates a restart: disposes the store, then reopens the store of the same name.</summary>
    protected async Task<IJournalStore> RestartAsync(IJournalStore store, string name)
    {
        _stores.Remove(store);
        await store.DisposeAsync();
        return await OpenAsync(name);
    }

    /// <summary>A payload that identifies its shard and sequence, so misplaced or reordered records show.</summary>
    protected static byte[] Payload(int shard, long sequence, int size = 150)
    {
        byte[] payload = new byte[size];
        for (int i = 0; i < size; i++)
        {
            payload[i] = (byte)((sequence * 31) + (shard * 7) + i);
        }

        if (size >= 12)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, shard);
            BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(4), sequence);
        }

        return payload;
    }

    protected static ReadOnlyMemory<byte>[] Batch(int shard, long firstSequence, int count, int size = 150)
        => Enumerable.Range(0, count).Select(i => (ReadOnlyMemory<byte>)Payload(shard, firstSequence + i, size)).ToArray();

    protected static async Task<List<JournalRecord>> ReadAllAsync(IShardJournal journal, long after = 0)
    {
        var records = new List<JournalRecord>();
        await foreach (JournalRecord record in journal.ReadAsync(after))
        {
            records.Add(record);
        }

        return records;
    }

    /// <summary>Checks the records are exactly first..last of <paramref name="shard"/>, in order, with their payloads.</summary>
    protected static void AssertRecords(IReadOnlyList<JournalRecord> records, int shard, long first, long last, int size = 150)
    {
        Assert.Equal(last - first + 1, records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            Assert.Equal(first + i, records[i].Sequence);
            Assert.True(
                Payload(shard, first + i, size).AsSpan().SequenceEqual(records[i].Payload.Span),
                $"payload of record {first + i} of shard {shard} differs");
        }
    }

    protected static Func<Stream, CancellationToken, ValueTask> WriteText(string text)
        => (stream, ct) => stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct);

    protected static async Task AssertSnapshotAsync(IJournalStore store, int shard, long sequence, string text)
    {
        SnapshotReader? snapshot = await store.Snapshots.LoadLatestAsync(shard);
        Assert.NotNull(snapshot);
        await using (snapshot)
        {
            Assert.Equal(sequence, snapshot.Sequence);
            Assert.Equal(text, System.Text.Encoding.UTF8.GetString(await ReadToEndAsync(snapshot.Content)));
        }
    }

    protected static async Task<byte[]> ReadToEndAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
