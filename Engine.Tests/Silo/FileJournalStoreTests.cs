using System.Collections.Concurrent;
using System.Text;
using Engine.Silo.Persistence;

namespace Engine.Tests.Silo;

public sealed class FileJournalStoreTests : JournalStoreContract, IDisposable
{
    // 150-byte payloads (the contract's default) plus the 16-byte record header.
    private const int RecordBytes = 166;

    private readonly string _root = Path.Combine(Path.GetTempPath(), "engine-journal-tests", Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<string> _log = new();

    protected override Task<IJournalStore> CreateStoreAsync(string name)
        => Task.FromResult<IJournalStore>(new FileJournalStore(Path.Combine(_root, name), _log.Enqueue));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task FileJournalStore_ShardData_FollowsDocumentedLayout()
    {
        await using (var store = NewStore())
        {
            IShardJournal journal = await store.OpenShardAsync(3);
            await journal.AppendAsync(Batch(3, 1, 5));
            await store.Snapshots.SaveAsync(3, 5, WriteText("five"));
        }

        Assert.Equal(5 * RecordBytes, new FileInfo(SegmentPath(3, 1)).Length);
        Assert.True(File.Exists(Path.Combine(_root, "s", "snapshots", "shard-03", "00000000000000000005.snap")));
    }

    [Theory]
    [InlineData(5)]
    [InlineData(RecordBytes - 6)]
    public async Task OpenShardAsync_LastRecordCutShort_DropsTornTailLogsAndContinues(int cut)
    {
        await WriteBatchesAsync(5, 5);
        CutFile(SegmentPath(0, 1), cut);

        await using var store = NewStore();
        IShardJournal journal = await store.OpenShardAsync(0);

        // The whole unfinished batch goes: its intact first four records were never acknowledged either.
        Assert.Equal(5, journal.LastSequence);
        Assert.Contains(_log, line => line.Contains($"journal shard 0: dropped torn tail at offset {5 * RecordBytes} (truncated record within an incomplete batch)", StringComparison.Ordinal));
        Assert.Equal(5 * RecordBytes, new FileInfo(SegmentPath(0, 1)).Length);
        Assert.Equal(6, await journal.AppendAsync(Batch(0, 6, 1)));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 6);
    }

    [Fact]
    public async Task OpenShardAsync_LastRecordChecksumBroken_DropsTornTailAndLogs()
    {
        await WriteBatchesAsync(5, 5);
        FlipByte(SegmentPath(0, 1), (9 * RecordBytes) + 16 + 40);

        await using var store = NewStore();
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(5, journal.LastSequence);
        Assert.Contains(_log, line => line.Contains($"journal shard 0: dropped torn tail at offset {5 * RecordBytes} (checksum mismatch within an incomplete batch)", StringComparison.Ordinal));
        Assert.Equal(6, await journal.AppendAsync(Batch(0, 6, 1)));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 6);
    }

    [Fact]
    public async Task OpenShardAsync_DamageInsideUnfinishedLastBatch_DropsRestOfThatBatch()
    {
        // A crash can persist the pages of the last, unacknowledged write out of order: intact records of
        // that batch may follow a damaged one. They were never acknowledged, so they go with the tail.
        await WriteBatchesAsync(5, 5);
        FlipByte(SegmentPath(0, 1), (6 * RecordBytes) + 16 + 3);

        await using var store = NewStore();
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(5, journal.LastSequence);
        Assert.Contains(_log, line => line.Contains($"dropped torn tail at offset {5 * RecordBytes} (checksum mismatch within an incomplete batch)", StringComparison.Ordinal));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 5);
    }

    [Fact]
    public async Task OpenShardAsync_BatchCutAtRecordBoundary_DropsTheWholeBatch()
    {
        // Every remaining record is intact, but the batch's last record never reached the disk: the
        // batch (one command's events, say) must not survive in part.
        await WriteBatchesAsync(5, 5);
        CutFile(SegmentPath(0, 1), 2 * RecordBytes);

        await using var store = NewStore();
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(5, journal.LastSequence);
        Assert.Contains(_log, line => line.Contains($"dropped torn tail at offset {5 * RecordBytes} (incomplete batch: 3 records without the end of their batch)", StringComparison.Ordinal));
        Assert.Equal(5 * RecordBytes, new FileInfo(SegmentPath(0, 1)).Length);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 5);
    }

    [Fact]
    public async Task OpenShardAsync_DamagedRecordFollowedByLaterBatch_ThrowsAndKeepsFile()
    {
        await WriteBatchesAsync(5, 5, 5);
        string segment = SegmentPath(0, 1);
        FlipByte(segment, (6 * RecordBytes) + 16 + 3);

        await using var store = NewStore();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.OpenShardAsync(0));

        Assert.Contains($"corrupt record at offset {6 * RecordBytes}", error.Message, StringComparison.Ordinal);
        Assert.Contains("later batch starting at sequence 11", error.Message, StringComparison.Ordinal);
        Assert.Equal(15 * RecordBytes, new FileInfo(segment).Length);
        Assert.Empty(_log);
    }

    [Fact]
    public async Task OpenShardAsync_DamagedLengthFollowedByLaterBatch_Throws()
    {
        await WriteBatchesAsync(5, 5);
        FlipByte(SegmentPath(0, 1), 2 * RecordBytes);

        await using var store = NewStore();

        await Assert.ThrowsAsync<InvalidDataException>(async () => await store.OpenShardAsync(0));
    }

    [Fact]
    public async Task ReadAsync_DamagedRecordInOlderSegment_Throws()
    {
        await WriteBatchesAsync(segmentBytes: 1000, 10, 10, 10);
        FlipByte(SegmentPath(0, 11), (3 * RecordBytes) + 16 + 3);

        await using var store = NewStore(segmentBytes: 1000);
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(30, journal.LastSequence);
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => ReadAllAsync(journal));
        Assert.Contains("corrupt record", error.Message, StringComparison.Ordinal);
        AssertRecords(await ReadAllAsync(journal, after: 20), shard: 0, first: 21, last: 30);
    }

    [Fact]
    public async Task OpenShardAsync_SegmentNameDisagreesWithRecords_Throws()
    {
        await WriteBatchesAsync(5);
        File.Move(SegmentPath(0, 1), SegmentPath(0, 4));

        await using var store = NewStore();

        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => await store.OpenShardAsync(0));
        Assert.Contains("not contiguous", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppendAsync_SegmentFull_RotatesAtBatchBoundariesAcrossReopen()
    {
        await WriteBatchesAsync(segmentBytes: 4096, Enumerable.Repeat(7, 20).ToArray());

        long[] firsts = SegmentFirstSequences(0);
        Assert.True(firsts.Length > 3, $"expected several segments, got {firsts.Length}");
        Assert.All(firsts, first => Assert.Equal(0, (first - 1) % 7));
        Assert.All(firsts[..^1], first => Assert.True(new FileInfo(SegmentPath(0, first)).Length >= 4096));

        await using var store = NewStore(segmentBytes: 4096);
        IShardJournal journal = await store.OpenShardAsync(0);
        Assert.Equal(140, journal.LastSequence);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 140);
        Assert.Equal(147, await journal.AppendAsync(Batch(0, 141, 7)));
        AssertRecords(await ReadAllAsync(journal, after: 100), shard: 0, first: 101, last: 147);
    }

    [Fact]
    public async Task OpenShardAsync_EmptySegmentLeftByRotation_ContinuesSequence()
    {
        await WriteBatchesAsync(segmentBytes: 1000, 10, 10);
        File.WriteAllBytes(SegmentPath(0, 21), []);

        await using var store = NewStore(segmentBytes: 1000);
        IShardJournal journal = await store.OpenShardAsync(0);

        Assert.Equal(20, journal.LastSequence);
        Assert.Equal(25, await journal.AppendAsync(Batch(0, 21, 5)));
        Assert.Equal(5 * RecordBytes, new FileInfo(SegmentPath(0, 21)).Length);
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 25);
    }

    [Fact]
    public async Task TruncateBeforeAsync_TwoSnapshots_DeletesSegmentsUpToOlderSnapshot()
    {
        await using var store = NewStore(segmentBytes: 1000);
        IShardJournal journal = await store.OpenShardAsync(0);
        for (int b = 0; b < 10; b++)
        {
            await journal.AppendAsync(Batch(0, (b * 10) + 1, 10));
        }

        await store.Snapshots.SaveAsync(0, 45, WriteText("45"));
        await store.Snapshots.SaveAsync(0, 75, WriteText("75"));
        await journal.TruncateBeforeAsync(75);

        // The older snapshot (45) is the fallback, so its segment (41..50) and everything after stays.
        Assert.Equal([41, 51, 61, 71, 81, 91], SegmentFirstSequences(0));
        AssertRecords(await ReadAllAsync(journal, after: 45), shard: 0, first: 46, last: 100);
        await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAllAsync(journal, after: 0));
        Assert.Equal(101, await journal.AppendAsync(Batch(0, 101, 1)));
    }

    [Fact]
    public async Task TruncateBeforeAsync_SingleSnapshot_KeepsWholeJournal()
    {
        await using var store = NewStore(segmentBytes: 1000);
        IShardJournal journal = await store.OpenShardAsync(0);
        for (int b = 0; b < 5; b++)
        {
            await journal.AppendAsync(Batch(0, (b * 10) + 1, 10));
        }

        await store.Snapshots.SaveAsync(0, 35, WriteText("35"));
        await journal.TruncateBeforeAsync(35);

        Assert.Equal([1, 11, 21, 31, 41], SegmentFirstSequences(0));
        AssertRecords(await ReadAllAsync(journal), shard: 0, first: 1, last: 50);
    }

    [Fact]
    public async Task OpenShardAsync_ShardAlreadyOpen_Throws()
    {
        await using var store = NewStore();
        IShardJournal journal = await store.OpenShardAsync(0);
        await using var other = NewStore();

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.OpenShardAsync(0));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await other.OpenShardAsync(0));

        await journal.DisposeAsync();
        IShardJournal reopened = await other.OpenShardAsync(0);
        Assert.Equal(0, reopened.LastSequence);
    }

    [Fact]
    public async Task LoadLatestAsync_IncompleteTempFile_IsIgnoredAndRemovedByNextSave()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        string temp = SnapshotPath(0, 20) + ".tmp";
        File.WriteAllBytes(temp, Encoding.UTF8.GetBytes("half a snapshot"));

        await AssertSnapshotAsync(store, 0, 10, "ten");

        await store.Snapshots.SaveAsync(0, 30, WriteText("thirty"));
        Assert.False(File.Exists(temp));
        await AssertSnapshotAsync(store, 0, 30, "thirty");
    }

    [Fact]
    public async Task LoadLatestAsync_NewestContentCorrupted_FallsBackToOlderAndLogs()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        await store.Snapshots.SaveAsync(0, 20, WriteText("twenty"));
        FlipByte(SnapshotPath(0, 20), 32 + 2);

        await AssertSnapshotAsync(store, 0, 10, "ten");
        Assert.Contains(_log, line => line.Contains("snapshot shard 0: ignored '00000000000000000020.snap' (content checksum mismatch)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoadLatestAsync_NewestCutShort_FallsBackToOlder()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        await store.Snapshots.SaveAsync(0, 20, WriteText("twenty"));
        CutFile(SnapshotPath(0, 20), 3);

        await AssertSnapshotAsync(store, 0, 10, "ten");
    }

    [Fact]
    public async Task LoadLatestAsync_AllSnapshotsCorrupted_ReturnsNull()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        FlipByte(SnapshotPath(0, 10), 5);

        Assert.Null(await store.Snapshots.LoadLatestAsync(0));
    }

    [Fact]
    public async Task SaveAsync_ThirdSnapshot_KeepsNewestTwo()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("ten"));
        await store.Snapshots.SaveAsync(0, 20, WriteText("twenty"));
        await store.Snapshots.SaveAsync(0, 30, WriteText("thirty"));

        string[] files = Directory.GetFiles(Path.GetDirectoryName(SnapshotPath(0, 10))!).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(["00000000000000000020.snap", "00000000000000000030.snap"], files);
    }

    [Fact]
    public async Task SnapshotContent_SeekAndLength_AreRelativeToContent()
    {
        await using var store = NewStore();
        await store.Snapshots.SaveAsync(0, 10, WriteText("0123456789"));

        SnapshotReader? snapshot = await store.Snapshots.LoadLatestAsync(0);
        Assert.NotNull(snapshot);
        await using (snapshot)
        {
            Assert.Equal(10, snapshot.Content.Length);
            snapshot.Content.Seek(4, SeekOrigin.Begin);
            Assert.Equal((byte)'4', snapshot.Content.ReadByte());
            Assert.Equal(5, snapshot.Content.Position);
        }
    }

    [Fact]
    public void Crc32C_StandardCheckInput_MatchesPublishedValue()
    {
        byte[] input = Encoding.ASCII.GetBytes("123456789");

        Assert.Equal(0xE3069283u, Crc32C.Compute(input));
        Assert.Equal(0xE3069283u, Crc32C.Update(Crc32C.Compute(input.AsSpan(0, 5)), input.AsSpan(5)));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    private FileJournalStore NewStore(long segmentBytes = FileJournalStore.DefaultSegmentBytes)
        => new(Path.Combine(_root, "s"), _log.Enqueue, segmentBytes);

    private Task WriteBatchesAsync(params int[] batchSizes) => WriteBatchesAsync(FileJournalStore.DefaultSegmentBytes, batchSizes);

    private async Task WriteBatchesAsync(long segmentBytes, params int[] batchSizes)
    {
        await using var store = NewStore(segmentBytes);
        IShardJournal journal = await store.OpenShardAsync(0);
        long next = 1;
        foreach (int size in batchSizes)
        {
            next = await journal.AppendAsync(Batch(0, next, size)) + 1;
        }
    }

    private string SegmentPath(int shard, long first)
        => Path.Combine(_root, "s", "journal", $"shard-{shard:D2}", $"{first:D20}.seg");

    private string SnapshotPath(int shard, long sequence)
        => Path.Combine(_root, "s", "snapshots", $"shard-{shard:D2}", $"{sequence:D20}.snap");

    private long[] SegmentFirstSequences(int shard)
        => Directory.GetFiles(Path.GetDirectoryName(SegmentPath(shard, 1))!, "*.seg")
            .Select(path => long.Parse(Path.GetFileNameWithoutExtension(path), System.Globalization.CultureInfo.InvariantCulture))
            .Order()
            .ToArray();

    private static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ 0x5A));
    }

    private static void CutFile(string path, int bytes)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.SetLength(file.Length - bytes);
    }
}
