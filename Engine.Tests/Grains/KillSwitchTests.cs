using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Kill switches on an account or a bucket: cancel, close, refuse until released.</summary>
public sealed class KillSwitchTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    [Fact]
    public void EngageKillSwitch_Account_CancelsEveryOrderClosesEveryPositionInEveryBucket()
    {
        var kit = new GrainTestKit();
        var swing = kit.CreateBucket("swing", 5_000m);
        kit.Price(50_000m);
        kit.Price(3_000m, Eth);
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.PlaceOk(Market(Sell, 1m, Eth) with { Bucket = swing });
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49_000m) with { ReduceOnly = true });
        var limit = kit.PlaceOk(Limit(Buy, 1m, 2_900m, symbol: Eth) with { Bucket = swing });
        var at = kit.Cursor;

        var outcome = (FlattenOutcome)kit.Must(new EngageKillSwitch(null) { Account = kit.Account })!;

        var events = kit.Since(at);
        Assert.IsType<KillSwitchEngaged>(events[0]);
        Assert.Equal(new FlattenOutcome(2, 2, 0), outcome);
        Assert.Equal((OrderStatus.Cancelled, OrderReasons.KillSwitch), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Equal((OrderStatus.Cancelled, OrderReasons.KillSwitch), (kit.OrderOf(limit).Status, kit.OrderOf(limit).Reason));
        Assert.Empty(kit.BucketOf().Positions);
        Assert.Empty(kit.BucketOf(swing).Positions);
        Assert.Equal(2, events.OfType<OrderFilled>().Count());
        Assert.True(kit.AccountState.KillSwitch);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void PlaceOrder_AccountKillSwitchOn_RejectedTradingDisabledUntilReleased()
    {
        var kit = new GrainTestKit();
        var swing = kit.CreateBucket("swing", 5_000m);
        kit.Price(50_000m);
        kit.Must(new EngageKillSwitch(null) { Account = kit.Account });

        AssertRejected(kit.Place(Limit(Buy, 0.1m, 49_000m)), RejectionKind.Business, "trading_disabled");
        AssertRejected(kit.Place(Limit(Buy, 0.1m, 49_000m) with { Bucket = swing }), RejectionKind.Business, "trading_disabled");
        AssertRejected(kit.PlaceList(new OrderListRequest
        {
            Type = OrderListType.Oco,
            Legs = [Limit(Buy, 0.1m, 49_000m), Stop(Buy, 0.1m, 51_000m)],
        }), RejectionKind.Business, "trading_disabled");
        Assert.Empty(kit.AccountState.LiveOrders);

        kit.Must(new ReleaseKillSwitch(null) { Account = kit.Account });

        kit.PlaceOk(Limit(Buy, 0.1m, 49_000m) with { Bucket = swing });
        Assert.False(kit.AccountState.KillSwitch);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void EngageKillSwitch_OneBucket_OtherBucketKeepsItsOrdersAndTrades()
    {
        var kit = new GrainTestKit();
        var swing = kit.CreateBucket("swing", 5_000m);
        kit.Price(50_000m);
        kit.PlaceOk(Market(Buy, 0.05m));
        kit.PlaceOk(Market(Buy, 0.05m) with { Bucket = swing });
        var manualStop = kit.PlaceOk(Stop(Sell, 0.05m, 49_000m) with { ReduceOnly = true });
        var swingStop = kit.PlaceOk(Stop(Sell, 0.05m, 49_000m) with { ReduceOnly = true, Bucket = swing });

        kit.Must(new EngageKillSwitch(swing) { Account = kit.Account });

        Assert.Empty(kit.BucketOf(swing).Positions);
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(swingStop).Status);
        Assert.Equal(0.05m, kit.PositionOf()!.Quantity);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(manualStop).Status);
        AssertRejected(kit.Place(Market(Buy, 0.01m) with { Bucket = swing }), RejectionKind.Business, "trading_disabled");
        kit.PlaceOk(Market(Buy, 0.01m));
        kit.Price(48_900m);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(manualStop).Status);
        Assert.True(kit.BucketOf(swing).Locked);
        Assert.False(kit.BucketOf().Locked);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void EngageKillSwitch_SymbolHalted_PositionStaysUntilTheSymbolResumesThenCloses()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.Halt();

        var outcome = (FlattenOutcome)kit.Must(new EngageKillSwitch(null) { Account = kit.Account })!;

        Assert.Equal(new FlattenOutcome(0, 0, 1), outcome);
        Assert.NotNull(kit.PositionOf());
        kit.Price(49_000m);
        Assert.NotNull(kit.PositionOf());
        var at = kit.Cursor;
        kit.Resume();
        var fill = Single<OrderFilled>(kit.Since(at));
        Assert.Equal((0.1m, 49_000m), (fill.Quantity, fill.Price));
        Assert.Null(kit.PositionOf());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void EngageKillSwitch_NoPriceYet_PositionClosesOnTheSymbolsFirstPrice()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        // As after a restart: the shard has its state but no prices yet.
        var restarted = new GrainTestKit(0m, 0m, 0m, "other", null, kit.Restored());
        restarted.Shard.PrimeQuote(Btc, default);

        var outcome = (FlattenOutcome)restarted.Must(new EngageKillSwitch(null) { Account = kit.Account })!;

        Assert.Equal(1, outcome.PendingPositions);
        restarted.Price(50_500m);
        var fill = Single<OrderFilled>(restarted.Journal);
        Assert.Equal(50_500m, fill.Price);
        Assert.Empty(restarted.Shard.FindAccount(kit.Account)!.FindBucket(kit.Manual)!.Positions);
    }

    [Fact]
    public void EngageKillSwitch_UnknownBucket_NotFoundAndNothingChanges()
    {
        var kit = new GrainTestKit();
        kit.Price(50_000m);
        kit.PlaceOk(Limit(Buy, 0.1m, 49_000m));
        var before = kit.Shard.Fingerprint();

        var result = kit.Execute(new EngageKillSwitch(new BucketId("acc-1-b9")) { Account = kit.Account });

        AssertRejected(result, RejectionKind.NotFound, "not_found");
        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void ReleaseKillSwitch_NotEngaged_ChangesNothing()
    {
        var kit = new GrainTestKit();
        var before = kit.Shard.Fingerprint();

        kit.Must(new ReleaseKillSwitch(null) { Account = kit.Account });

        Assert.Equal(before, kit.Shard.Fingerprint());
    }

    [Fact]
    public void Restore_KillSwitchesOn_StayOnAfterSnapshot()
    {
        var kit = new GrainTestKit();
        var swing = kit.CreateBucket("swing", 5_000m);
        kit.Price(50_000m);
        kit.Must(new EngageKillSwitch(swing) { Account = kit.Account });
        kit.Must(new EngageKillSwitch(null) { Account = kit.Account });

        var restored = kit.Restored();

        Assert.Equal(kit.Shard.Fingerprint(), restored.Fingerprint());
        var result = restored.Execute(new PlaceOrder(Limit(Buy, 0.1m, 49_000m), null) { Account = kit.Account }, kit.Now);
        AssertRejected(result, RejectionKind.Business, "trading_disabled");
    }
}
