using System.Text.Json;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;
using Engine.Silo.Serialization;

namespace Engine.Tests.Silo;

public sealed class JournalEventCodecTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 8, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Day = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<EngineEvent> Events() =>
    [
        new FundsDeposited(1234.5678m) { At = At, Account = new AccountId("a1") },
        new OrderTriggered(42, 64250.5m) { At = At, Account = new AccountId("a1") },
        new TrailingExtremesMoved("BTC-USDT", TriggerSource.Mark, TriggerDirection.Fall, 97001.3m) { At = At },
        new SymbolHalted("BTC-USDT", HaltReasons.PriceMove, At.AddSeconds(-1), At.AddSeconds(30)) { At = At },
        new SymbolHalted("ETH-USDT", HaltReasons.Operator, At, null) { At = At },
        new SymbolResumed("BTC-USDT", HaltReasons.BreakerClosed) { At = At },
        new KillSwitchEngaged(null) { At = At, Account = new AccountId("a1") },
        new KillSwitchEngaged(new BucketId("a1-b2")) { At = At, Account = new AccountId("a1") },
        new KillSwitchReleased(new BucketId("a1-b2")) { At = At, Account = new AccountId("a1") },
        new CancelAllAfterSet(At.AddSeconds(60)) { At = At, Account = new AccountId("a1") },
        new CancelAllAfterSet(null) { At = At, Account = new AccountId("a1") },
        new CancelAllAfterTriggered(At.AddSeconds(60)) { At = At, Account = new AccountId("a1") },
        new DailyLossLimitSet(new BucketId("a1-b1"), 250.5m, 5000m, Day) { At = At, Account = new AccountId("a1") },
        new DailyLossLimitSet(new BucketId("a1-b1"), null, 4990.25m, Day) { At = At, Account = new AccountId("a1") },
        new DailyLossLimitReached(new BucketId("a1-b1"), 251.75m, 250.5m) { At = At, Account = new AccountId("a1") },
        new DailyLossLockReleased(new BucketId("a1-b1"), 4748.5m) { At = At, Account = new AccountId("a1") },
        new BucketDayStarted(new BucketId("a1-b1"), Day.AddDays(1), 4748.5m) { At = At, Account = new AccountId("a1") },
        new TriggerConfirmationStarted(42, 64250.5m, At.AddSeconds(2)) { At = At, Account = new AccountId("a1") },
        new TriggerConfirmationFailed(42, 64300m) { At = At, Account = new AccountId("a1") },
        new OrderConvertedToMarket(42, OrderReasons.FallbackTimeout) { At = At, Account = new AccountId("a1") },
        new OrderAccepted(new OrderSpec
        {
            Number = 7,
            Bucket = new BucketId("a1-b1"),
            Symbol = "BTC-USDT",
            Side = OrderSide.Sell,
            Type = OrderType.StopLimit,
            Quantity = 0.01m,
            TriggerPrice = 59000m,
            Price = 58900m,
            Risk = new OrderRiskSpec(TimeSpan.FromSeconds(2.5), new OrderFallback(TimeSpan.FromSeconds(5), 58500m, FallbackAction.Cancel)),
        }, OrderStatus.Untriggered, OrderPhase.Waiting) { At = At, Account = new AccountId("a1") },
    ];

    [Theory]
    [MemberData(nameof(Events))]
    public void Deserialize_BinaryRecord_GivesBackTheSameEvent(EngineEvent e)
    {
        var record = JournalEventCodec.Serialize(e);

        Assert.Equal(1, record[0]);
        Assert.Equal(Json(e), Json(JournalEventCodec.Deserialize(record)));
        Assert.True(record.Length < EventJson.Serialize(e).Length, "binary records are smaller than JSON ones");
    }

    [Theory]
    [MemberData(nameof(Events))]
    public void Deserialize_JsonRecordFromAnOlderDataFolder_StillReads(EngineEvent e) =>
        Assert.Equal(Json(e), Json(JournalEventCodec.Deserialize(EventJson.Serialize(e))));

    [Fact]
    public void Deserialize_UnknownFormatOrTrailingBytes_Throws()
    {
        Assert.Throws<InvalidDataException>(() => JournalEventCodec.Deserialize(new byte[] { 7, 1, 2 }));
        var record = JournalEventCodec.Serialize(new OrderCancelled(3, OrderReasons.User) { At = At, Account = new AccountId("a1") });
        Assert.Throws<InvalidDataException>(() => JournalEventCodec.Deserialize(record.Append((byte)0).ToArray()));
        Assert.Throws<InvalidDataException>(() => JournalEventCodec.Deserialize(record[..^2]));
    }

    private static string Json(EngineEvent e) => JsonSerializer.Serialize(e, EventJson.Options);
}
