using Engine.Grains;
using Engine.Grains.Instruments;
using Engine.Grains.Orders;
using Engine.Silo.Serialization;

namespace Engine.Tests.Grains;

public sealed class CanonicalStringsTests
{
    [Fact]
    public void Apply_DeserializedOrderAccepted_SharesTheInstrumentSymbolAndBucketId()
    {
        var kit = new GrainTestKit();
        kit.Index(50_000m);
        for (var i = 0; i < 3; i++) kit.PlaceOk(GrainTestKit.Stop(OrderSide.Buy, 0.01m, 51_000m + i));

        // Replay from the journal's bytes: every event arrives with freshly allocated strings.
        var replayed = new ShardGrains(InstrumentCatalog.Default, new PaperVenue(0m));
        foreach (var e in kit.Journal) replayed.Apply(EventJson.Deserialize(EventJson.Serialize(e)));

        var symbol = InstrumentCatalog.Default.Find(GrainTestKit.Btc)!.Symbol;
        var bucket = replayed.FindAccount(kit.Account)!.ManualBucket;
        var orders = replayed.Orders.Values.ToList();
        Assert.Equal(3, orders.Count);
        Assert.All(orders, o => Assert.Same(symbol, o.Symbol));
        Assert.All(orders, o => Assert.Same(bucket.Value, o.Bucket.Value));
        Assert.Equal(GrainTestKit.StateOf(kit.Shard), GrainTestKit.StateOf(replayed));
    }
}
