using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>The dead man's switch (cancel-all-after): entries go at the deadline, protection stays.</summary>
public sealed class DeadManSwitchTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    [Fact]
    public void AdvanceTime_DeadlinePassed_CancelsEntryOrdersAndKeepsProtectiveOnes()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        var protectiveStop = kit.PlaceOk(Stop(Sell, 0.1m, 48_000m) with { ReduceOnly = true });
        var closeAll = kit.PlaceOk(new OrderRequest { Symbol = Btc, Side = Sell, Type = OrderType.TakeProfit, TriggerPrice = 55_000m, ClosePosition = true });
        var entryLimit = kit.PlaceOk(Limit(Buy, 0.1m, 49_000m));
        var entryStop = kit.PlaceOk(Stop(Buy, 0.1m, 51_000m));
        var bracket = kit.PlaceListOk(new OrderListRequest
        {
            Type = OrderListType.Bracket,
            Entry = Limit(Buy, 0.1m, 49_500m),
            TakeProfit = new ExitRequest(52_000m, null),
            StopLoss = new ExitRequest(48_500m, null),
        });
        var bracketOrders = kit.AccountState.Lists[bracket.Value].Orders;
        kit.Must(new SetCancelAllAfter(10) { Account = kit.Account });

        kit.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(7, kit.AccountState.LiveOrders.Count);

        var events = kit.Advance(TimeSpan.FromSeconds(0.1));

        Assert.IsType<CancelAllAfterTriggered>(events[0]);
        foreach (var entry in new[] { entryLimit, entryStop, bracketOrders[0] })
            Assert.Equal((OrderStatus.Cancelled, OrderReasons.CancelAllAfter), (kit.OrderOf(entry).Status, kit.OrderOf(entry).Reason));
        // The bracket's exits had nothing to protect yet: they go with their entry.
        Assert.All(bracketOrders[1..], n => Assert.Equal((OrderStatus.Cancelled, OrderReasons.PrimaryNotFilled), (kit.OrderOf(n).Status, kit.OrderOf(n).Reason)));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(protectiveStop).Status);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(closeAll).Status);
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);
        Assert.Null(kit.AccountState.CancelAllAfter);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void SetCancelAllAfter_RefreshedBeforeTheDeadline_NothingIsCancelled()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        var entry = kit.PlaceOk(Limit(Buy, 0.1m, 49_000m));
        kit.Must(new SetCancelAllAfter(10) { Account = kit.Account });

        for (var i = 0; i < 5; i++)
        {
            kit.Advance(TimeSpan.FromSeconds(8));
            kit.Must(new SetCancelAllAfter(10) { Account = kit.Account });
        }

        Assert.Equal(OrderStatus.Open, kit.OrderOf(entry).Status);
        Assert.Equal(kit.Now.AddSeconds(10), kit.AccountState.CancelAllAfter);
        kit.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(entry).Status);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void SetCancelAllAfter_Zero_DisarmsIt()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        var entry = kit.PlaceOk(Limit(Buy, 0.1m, 49_000m));
        kit.Must(new SetCancelAllAfter(10) { Account = kit.Account });

        kit.Must(new SetCancelAllAfter(0) { Account = kit.Account });
        kit.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal(OrderStatus.Open, kit.OrderOf(entry).Status);
        Assert.Null(kit.AccountState.CancelAllAfter);
        kit.AssertReplayMatches();
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void SetCancelAllAfter_OutOfRange_InvalidAndNothingChanges(int seconds)
    {
        var kit = new GrainTestKit();
        var before = kit.Shard.Fingerprint();

        var result = kit.Execute(new SetCancelAllAfter(seconds) { Account = kit.Account });

        AssertRejected(result, RejectionKind.Invalid, "invalid_timeout_seconds");
        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void Restore_ArmedSwitch_FiresAtTheSameDeadlineInTheRestoredShard()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        var entry = kit.PlaceOk(Limit(Buy, 0.1m, 49_000m));
        kit.Must(new SetCancelAllAfter(30) { Account = kit.Account });
        var restored = kit.Restored();
        var replayed = kit.Replay();
        Assert.Equal(kit.Shard.Fingerprint(), restored.Fingerprint());
        Assert.Equal(kit.Shard.Fingerprint(), replayed.Fingerprint());

        foreach (var shard in new[] { restored, replayed })
        {
            var output = new List<EngineEvent>();
            shard.AdvanceTime(kit.Now.AddSeconds(29), output);
            Assert.Empty(output);
            shard.AdvanceTime(kit.Now.AddSeconds(30), output);
            Assert.Equal(["CancelAllAfterTriggered", "OrderCancelled"], Kinds(output));
            Assert.Equal(OrderStatus.Cancelled, shard.Orders[entry].Status);
        }
    }
}
