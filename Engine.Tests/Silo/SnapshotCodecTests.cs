using System.Globalization;
using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Silo.Persistence;
using Engine.Tests.Grains;

namespace Engine.Tests.Silo;

public sealed class SnapshotCodecTests
{
    private static readonly ShardOptions Options = new() { EventHistory = 40, FillHistory = 15, DoneOrderHistory = 25, ClientIdHistory = 12 };

    [Fact]
    public void Read_WrittenEmptyShard_RestoresEqualShard()
    {
        var empty = RandomWorkload.NewShard(Options);

        var bytes = ReplayTests.Encode(empty.Capture());
        var restored = ReplayTests.Restore(bytes, Options);

        Assert.Equal(empty.Fingerprint(), restored.Fingerprint());
        Assert.Empty(restored.Accounts);
        Assert.Equal(1, restored.NextOrderNumber);
    }

    [Fact]
    public void Read_WrittenPopulatedShard_RestoresEqualShardAndReencodesIdentically()
    {
        var workload = new RandomWorkload(22, Options);
        workload.Run(batches: 700);
        var live = workload.Shard;
        Assert.True(live.Orders.Values.Count(o => o.IsLive) > 10);
        Assert.Contains(live.Orders.Values, o => o.Phase == OrderPhase.Trailing);
        Assert.Contains(live.Plans, p => p.History.Any(h => h.Kind == Engine.Grains.Plans.PlanHistoryKind.Armed));

        var bytes = ReplayTests.Encode(live.Capture());
        var restored = ReplayTests.Restore(bytes, Options);

        ReplayTests.AssertSameState(live.Fingerprint(), restored.Fingerprint());
        Assert.Equal(live.TriggerCount, restored.TriggerCount);
        Assert.Equal(bytes, ReplayTests.Encode(restored.Capture()));
    }

    [Fact]
    public void Restore_OrderWithItsAcceptedEventInHistory_SharesOneSpecLikeTheLiveShard()
    {
        var workload = new RandomWorkload(21, Options);
        workload.Run(batches: 700);
        var live = workload.Shard;

        var restored = ReplayTests.Restore(ReplayTests.Encode(live.Capture()), Options);

        var pairs = restored.Accounts.Values
            .SelectMany(a => a.Events)
            .Select(e => e.Event)
            .OfType<OrderAccepted>()
            .Where(e => restored.Orders.ContainsKey(e.Order.Number))
            .ToList();
        Assert.True(pairs.Count > 10);
        Assert.All(pairs, e => Assert.Same(e.Order, restored.Orders[e.Order.Number].Spec));
        ReplayTests.AssertSameState(live.Fingerprint(), restored.Fingerprint());
    }

    [Fact]
    public void Read_NonSeekableStream_ReadsTheSnapshot()
    {
        var workload = new RandomWorkload(22, Options);
        workload.Run(batches: 200);
        var bytes = ReplayTests.Encode(workload.Shard.Capture());

        var snapshot = ShardSnapshotCodec.Read(new ForwardOnlyStream(bytes));

        Assert.Equal(bytes, ReplayTests.Encode(snapshot));
    }

    [Fact]
    public void Read_TwoSnapshotsBackToBack_LeavesTheStreamAfterEachEndMarker()
    {
        var a = new RandomWorkload(23, Options);
        a.Run(batches: 100);
        var b = new RandomWorkload(24, Options);
        b.Run(batches: 150);
        using var stream = new MemoryStream();
        ShardSnapshotCodec.Write(stream, a.Shard.Capture());
        ShardSnapshotCodec.Write(stream, b.Shard.Capture());
        stream.Position = 0;

        var first = ShardSnapshotCodec.Read(stream);
        var second = ShardSnapshotCodec.Read(stream);

        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(ReplayTests.Encode(a.Shard.Capture()), ReplayTests.Encode(first));
        Assert.Equal(ReplayTests.Encode(b.Shard.Capture()), ReplayTests.Encode(second));
    }

    /// <summary>
    /// A format-2 snapshot (before the risk controls) written by the build before them: two accounts with
    /// two buckets each, a long position, a reduce-only stop, a resting limit, a trailing stop and a
    /// stop-limit with a client id per account.
    /// </summary>
    private const string FormatTwoSnapshot =
        "RVNIUwIACwAAAAAAAAADAAAAAAAAAAMAAAAAAAAAAgEFYWxpY2UFYWxpY2UKaGFzaC1hbGljZQDgXQIIYWxpY2UtYjECAAsCAgMGbWFudWFsAAfApNqaugEB"
        + "AAABAQQIQlRDLVVTRFQCBQHAzyQKAAAAA+CnEgHZiyEIAAAAAAUIYWxpY2UtYjIGBXN3aW5nAAC4FwAAAAAAAQEBBHNsLTEBBQECaDEAAAEBAQECBAACBQHA"
        + "zyQHwMOTBwEAAQDUMpthYd0IAAALAQEA1DKbYWHdCAAAAQVhbGljZQpoYXNoLWFsaWNlAgICANQym2Fh3QgAAAEAoJwBAwUA1DKbYWHdCAAAAQIAAIgnBAQA"
        + "1DKbYWHdCAAAAQUGAAC4FwUJANQym2Fh3QgAAAEAAQIEAAAAAAIFAQUABg4A1DKbYWHdCAAAAQEBAgUBwM8kB8DDkwcBAAEHCQDUMpthYd0IAAABghACAgQB"
        + "AgAAAgUAkMUDAAEACAkA1DKbYWHdCAAAAQEDBQQAAQAAAgEA+MwDAQQACQkA1DKbYWHdCAAAAQQEAgQBBgAAAgECAQACAAoMANQym2Fh3QgAAAEEAODUAwsJ"
        + "ANQym2Fh3QgAAAFDBQIEAAMAAAIBAKzdAwDI3AMEc2wtMQABAQJoMQcDYm9iA2JvYghoYXNoLWJvYgDgXQgGYm9iLWIxAgALAggDAAfApNqaugEBAAABAgQC"
        + "BQHAzyQKAAAAA+CnEgHZiyEJAAAAAAkGYm9iLWIyBgAAuBcAAAAAAAEGAQRzbC0xAQoBAmgxAAABAgEGCAQAAgUBwM8kB8DDkwcBAAEA1DKbYWHdCAAACwEB"
        + "ANQym2Fh3QgAAAcDYm9iCGhhc2gtYm9iCAICANQym2Fh3QgAAAcAoJwBAwUA1DKbYWHdCAAABwgAAIgnBAQA1DKbYWHdCAAABwkGAAC4FwUJANQym2Fh3QgA"
        + "AAcABggEAAAAAAIFAQUABg4A1DKbYWHdCAAABwYCAgUBwM8kB8DDkwcBAAEHCQDUMpthYd0IAAAHghAHCAQBAgAAAgUAkMUDAAEACAkA1DKbYWHdCAAABwEI"
        + "CQQAAQAAAgEA+MwDAQQACQkA1DKbYWHdCAAABwQJCAQBBgAAAgECAQACAAoMANQym2Fh3QgAAAcJAODUAwsJANQym2Fh3QgAAAdDCggEAAMAAAIBAKzdAwDI"
        + "3AMEc2wtMQABAQJoMQoIghACAgQBAgAAAgUAkMUDAAEAAQDUMpthYd0IAAABAwUEAAEAAAIBAPjMAwABAQQA1DKbYWHdCAAABAQCBAEGAAACAQIBgAgBAAMA"
        + "1DKbYWHdCAAAAIzXA0MFAgQAAwAAAgEArN0DAMjcAwRzbC0xAAEAAQDUMpthYd0IAACCEAcIBAECAAACBQCQxQMABwABANQym2Fh3QgAAAEICQQAAQAAAgEA"
        + "+MwDAAcBBADUMpthYd0IAAAECQgEAQYAAAIBAgGACAcAAwDUMpthYd0IAAAAjNcDQwoIBAADAAACAQCs3QMAyNwDBHNsLTEABwABANQym2Fh3QgAAAABAgQA"
        + "AAAAAgUgAQIGANQym2Fh3QgAAAIFAcDPJAAGCAQAAAAAAgUgBwIGANQym2Fh3QgAAAIFAcDPJAAAU0hTRQ==";

    [Fact]
    public void Read_FormatTwoSnapshotOfTheBuildBefore_RestoresWithoutRiskStateAndKeepsTrading()
    {
        var restored = ShardGrains.Restore(ShardSnapshotCodec.Read(new MemoryStream(Convert.FromBase64String(FormatTwoSnapshot))),
            InstrumentCatalog.Default, new PaperVenue(0m), new ShardOptions());

        Assert.Equal((2, 10, 8, 10, 11L), (restored.Accounts.Count, restored.Orders.Count, restored.Orders.Values.Count(o => o.IsLive), restored.TriggerCount, restored.NextOrderNumber));
        var alice = restored.FindAccount(new AccountId("alice"))!;
        Assert.Equal(12_000m, alice.WalletBalance);
        Assert.False(alice.KillSwitch);
        Assert.Null(alice.CancelAllAfter);
        Assert.All(alice.Buckets, b => Assert.False(b.Locked || b.KillSwitch || b.LossLocked || b.DailyLossLimit is not null));
        Assert.Empty(restored.Halts);
        Assert.Empty(restored.Plans);
        Assert.Equal(0.05m, alice.Buckets[0].Positions["BTC-USDT"].Quantity);

        // Written again it is the current format, and reads back to the same state.
        var rewritten = ReplayTests.Encode(restored.Capture());
        Assert.Equal(ShardSnapshotCodec.FormatVersion, BitConverter.ToUInt16(rewritten, 4));
        ReplayTests.AssertSameState(restored.Fingerprint(), ReplayTests.Restore(rewritten, new ShardOptions()).Fingerprint());

        // And it trades on: the price falls through both accounts' reduce-only stops and trailing stops
        // (the trailing sells open a short once the long is closed).
        var output = new List<EngineEvent>();
        restored.OnPrices("BTC-USDT", new Quote(57_900m, 57_900m, 57_900m), new DateTimeOffset(2025, 3, 12, 12, 31, 0, TimeSpan.Zero), output);
        Assert.Equal(2, output.OfType<OrderFilled>().Count(f => restored.Orders[f.Order].Spec.ReduceOnly && restored.Orders[f.Order].Type == OrderType.Stop));
        Assert.Equal(2, output.OfType<OrderFilled>().Count(f => restored.Orders[f.Order].Type == OrderType.TrailingStop));
        Assert.Equal(-0.01m, alice.Buckets[0].Positions["BTC-USDT"].Quantity);
    }

    [Fact]
    public void Read_WrongMagic_ThrowsInvalidData()
    {
        var bytes = ReplayTests.Encode(RandomWorkload.NewShard(Options).Capture());
        bytes[0] ^= 0xFF;

        var e = Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(new MemoryStream(bytes)));

        Assert.Contains("magic", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_OtherFormatVersion_ThrowsInvalidData()
    {
        var bytes = ReplayTests.Encode(RandomWorkload.NewShard(Options).Capture());
        bytes[4] = (byte)(ShardSnapshotCodec.FormatVersion + 1);

        var e = Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(new MemoryStream(bytes)));

        Assert.Contains("version " + (ShardSnapshotCodec.FormatVersion + 1), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_EmptyStream_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(new MemoryStream()));
    }

    [Fact]
    public void Read_TruncatedStream_ThrowsInvalidDataAtEveryCut()
    {
        var workload = new RandomWorkload(25, Options);
        workload.Run(batches: 150);
        var bytes = ReplayTests.Encode(workload.Shard.Capture());
        var cuts = Enumerable.Range(0, 64).Concat(Enumerable.Range(1, 400).Select(i => (int)((long)bytes.Length * i / 401))).Append(bytes.Length - 1).Distinct();

        foreach (var cut in cuts)
        {
            var seekable = new MemoryStream(bytes, 0, cut);
            Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(seekable));
            Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(new ForwardOnlyStream(bytes[..cut])));
        }
    }

    [Fact]
    public void Read_DamagedEndMarker_ThrowsInvalidData()
    {
        var bytes = ReplayTests.Encode(RandomWorkload.NewShard(Options).Capture());
        bytes[^1] ^= 0x01;

        var e = Assert.Throws<InvalidDataException>(() => ShardSnapshotCodec.Read(new MemoryStream(bytes)));

        Assert.Contains("end marker", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DecimalsAndTimes_KeepTheirExactBitsScalesAndOffsets()
    {
        decimal[] values = [0m, 1.50m, 1.5m, -0.00000001m, decimal.MaxValue, decimal.MinValue, 79_228_162_514.264337593543950335m, new decimal(0, 0, 0, true, 3), 123456789012345678901234.5678m];
        DateTimeOffset[] times =
        [
            DateTimeOffset.Parse("2025-06-01T10:11:12.1234567+05:30", CultureInfo.InvariantCulture),
            DateTimeOffset.Parse("1999-12-31T23:59:59.9999999-11:00", CultureInfo.InvariantCulture),
            DateTimeOffset.MinValue,
            DateTimeOffset.MaxValue,
        ];
        var id = new AccountId("x");
        var account = new AccountSnapshot
        {
            Id = id,
            Name = "x",
            ApiKeyHash = "h",
            WalletBalance = -0.0m,
            ManualBucket = BucketId.For(id, 1),
            BucketCount = 1,
            ListCount = 0,
            EventSequence = values.Length,
            Buckets = [],
            RecentDoneOrders = [],
            ClientOrderIds = [],
            Lists = [],
            Idempotency = [],
            Fills = values.Select((v, i) => new Fill(i, null, BucketId.For(id, 1), "BTC-USDT", OrderSide.Buy, v, -v, v, v, Liquidity.Maker, times[i % times.Length])).ToArray(),
            Events = values.Select((v, i) => new SequencedEvent(i + 1, new FundsDeposited(v) { At = times[i % times.Length], Account = id })).ToArray(),
        };
        var snapshot = new ShardSnapshot
        {
            NextOrderNumber = long.MaxValue,
            NextFillNumber = 1,
            NextPositionKey = 1,
            Accounts = [account],
            Orders = [],
            IndexedOrders = 0,
            Children = [],
            Expiries = times.Select((t, i) => new ExpiryEntry(i, t)).ToArray(),
        };

        using var stream = new MemoryStream(ReplayTests.Encode(snapshot));
        var back = ShardSnapshotCodec.Read(stream);

        Assert.Equal(long.MaxValue, back.NextOrderNumber);
        Assert.Equal(decimal.GetBits(-0.0m), decimal.GetBits(back.Accounts[0].WalletBalance));
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal(decimal.GetBits(values[i]), decimal.GetBits(back.Accounts[0].Fills[i].Quantity));
            Assert.Equal(decimal.GetBits(-values[i]), decimal.GetBits(back.Accounts[0].Fills[i].Price));
            Assert.Equal(decimal.GetBits(values[i]), decimal.GetBits(((FundsDeposited)back.Accounts[0].Events[i].Event).Amount));
        }

        for (var i = 0; i < times.Length; i++)
        {
            Assert.True(times[i].EqualsExact(back.Expiries[i].At), $"{times[i]:O} came back as {back.Expiries[i].At:O}");
        }
    }

    [Fact]
    public void Write_EventTypeTheCodecDoesNotKnow_ThrowsNotSupported()
    {
        var id = new AccountId("x");
        var snapshot = new ShardSnapshot
        {
            NextOrderNumber = 1,
            NextFillNumber = 1,
            NextPositionKey = 1,
            Accounts =
            [
                new AccountSnapshot
                {
                    Id = id, Name = "x", ApiKeyHash = "h", WalletBalance = 0m, ManualBucket = BucketId.For(id, 1), BucketCount = 1, ListCount = 0,
                    EventSequence = 1, Buckets = [], RecentDoneOrders = [], ClientOrderIds = [], Lists = [], Idempotency = [], Fills = [],
                    Events = [new SequencedEvent(1, new UnknownEvent { At = DateTimeOffset.UnixEpoch, Account = id })],
                },
            ],
            Orders = [],
            IndexedOrders = 0,
            Children = [],
            Expiries = [],
        };

        var e = Assert.Throws<NotSupportedException>(() => ReplayTests.Encode(snapshot));

        Assert.Contains(nameof(UnknownEvent), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodableEventTypes_CoverEveryAccountEventOfTheDomain()
    {
        var domain = typeof(AccountEvent).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(AccountEvent).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();

        var missing = domain.Except(ShardSnapshotCodec.EncodableEventTypes).Select(t => t.Name).ToList();

        Assert.True(missing.Count == 0, "the snapshot codec cannot encode: " + string.Join(", ", missing));
    }

    [Fact]
    public void Write_PopulatedShard_IsCompact()
    {
        var workload = new RandomWorkload(26, new ShardOptions());
        workload.Run(batches: 600);
        var snapshot = workload.Shard.Capture();

        var bytes = ReplayTests.Encode(snapshot);

        // Orders dominate real snapshots; the recent history is bounded per account.
        var perOrder = (double)bytes.Length / Math.Max(1, snapshot.Orders.Length + snapshot.Accounts.Sum(a => a.Events.Length + a.Fills.Count));
        Assert.True(perOrder < 80, $"{bytes.Length} bytes for {snapshot.Orders.Length} orders: {perOrder:F1} per record");
    }

    private sealed record UnknownEvent : AccountEvent;

    /// <summary>A stream that can only be read forward, as a network or decompression stream.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 7));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
