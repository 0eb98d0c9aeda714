using System.Text.Json;
using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Silo.Serialization;

namespace Engine.Tests.Silo;

public sealed class JournalEventCodecTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 8, 30, 0, TimeSpan.Zero);

    public static TheoryData<EngineEvent> Events() =>
    [
        new FundsDeposited(1234.5678m) { At = At, Account = new AccountId("a1") },
        new OrderTriggered(42, 64250.5m) { At = At, Account = new AccountId("a1") },
        new TrailingExtremesMoved("BTC-USDT", TriggerSource.Mark, TriggerDirection.Fall, 97001.3m) { At = At },
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
