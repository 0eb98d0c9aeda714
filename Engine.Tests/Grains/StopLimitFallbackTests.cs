using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Risk;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Stop-limit gap fallback: a triggered limit that does not fill becomes a market order or is cancelled.</summary>
public sealed class StopLimitFallbackTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    [Fact]
    public void AdvanceTime_TriggeredStopLimitUnfilledAfterItsTime_ConvertedToMarketAndFilled()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_900m) with
        {
            ReduceOnly = true,
            Fallback = new OrderFallback(TimeSpan.FromSeconds(5), null, FallbackAction.Market),
        });
        // The price gaps through the trigger and the limit: the sell limit at 58,900 rests.
        kit.Price(58_500m);
        Assert.Equal((OrderStatus.Open, OrderPhase.Resting), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Phase));

        Assert.Empty(kit.Advance(TimeSpan.FromSeconds(4.9)));
        kit.Price(58_300m);
        var events = kit.Advance(TimeSpan.FromSeconds(0.1));

        Assert.Equal(["OrderConvertedToMarket", "OrderFilled"], Kinds(events));
        Assert.Equal(OrderReasons.FallbackTimeout, Single<OrderConvertedToMarket>(events).Reason);
        Assert.Equal((OrderStatus.Filled, 58_300m), (kit.OrderOf(stop).Status, kit.OrderOf(stop).AverageFillPrice));
        Assert.Equal(Liquidity.Taker, Single<OrderFilled>(events).Liquidity);
        Assert.Null(kit.PositionOf());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_IndexRunsPastTheWorstPrice_CancelledAsTheFallbackSays()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Buy, 0.1m, 61_000m, 61_100m) with
        {
            Fallback = new OrderFallback(null, 61_500m, FallbackAction.Cancel),
        });
        kit.Price(61_200m);
        Assert.Equal(OrderPhase.Resting, kit.OrderOf(stop).Phase);

        Assert.DoesNotContain(kit.Price(61_499.9m), e => e is OrderCancelled);
        var events = kit.Price(61_500m);

        Assert.Equal((OrderStatus.Cancelled, OrderReasons.FallbackWorstPrice), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Single(events.OfType<OrderCancelled>());
        Assert.Null(kit.PositionOf());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_TriggeredAlreadyPastTheWorstPrice_ConvertedAtOnce()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_900m) with
        {
            Fallback = new OrderFallback(null, 58_800m, FallbackAction.Market),
        });

        var events = kit.Price(58_000m);

        Assert.Equal(["OrderTriggered", "OrderConvertedToMarket", "OrderFilled"], Kinds(events));
        Assert.Equal(58_000m, kit.OrderOf(stop).AverageFillPrice);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_LimitFillsBeforeTheFallback_NothingMoreHappens()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_900m) with
        {
            Fallback = new OrderFallback(TimeSpan.FromSeconds(5), 58_000m, FallbackAction.Market),
        });
        kit.Price(58_800m);
        kit.Price(58_950m);
        Assert.Equal((OrderStatus.Filled, 58_900m), (kit.OrderOf(stop).Status, kit.OrderOf(stop).AverageFillPrice));

        Assert.Empty(kit.Advance(TimeSpan.FromSeconds(10)));
        Assert.DoesNotContain(kit.Price(57_000m), e => e is OrderConvertedToMarket);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void Restore_RestingTriggeredStopLimit_KeepsItsFallbackDeadline()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_900m) with
        {
            Fallback = new OrderFallback(TimeSpan.FromSeconds(5), 58_000m, FallbackAction.Cancel),
        });
        kit.Price(58_500m);

        var restored = kit.Restored();

        Assert.Equal(kit.Shard.Fingerprint(), restored.Fingerprint());
        var output = new List<EngineEvent>();
        restored.AdvanceTime(kit.Now.AddSeconds(5), output);
        Assert.Equal(OrderReasons.FallbackTimeout, Single<OrderCancelled>(output).Reason);
        Assert.Equal(OrderStatus.Cancelled, restored.Orders[stop].Status);
    }

    [Fact]
    public void AmendOrder_LimitPastTheFallbacksWorstPrice_InvalidAndNothingChanges()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_900m) with { Fallback = new OrderFallback(null, 58_500m, FallbackAction.Cancel) });
        var before = StateOf(kit.Shard, withEventCount: false);

        var result = kit.Amend(stop, price: 58_400m);

        AssertRejected(result, RejectionKind.Invalid, "invalid_price");
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
        Assert.True(kit.Amend(stop, price: 58_500m).Succeeded);
    }

    public static TheoryData<string, OrderRequest> InvalidFallbacks() => new()
    {
        { "on a stop", Stop(Sell, 0.1m, 59_000m) with { Fallback = new OrderFallback(TimeSpan.FromSeconds(5), null, FallbackAction.Market) } },
        { "no condition", StopLimit(Sell, 0.1m, 59_000m, 58_900m) with { Fallback = new OrderFallback(null, null, FallbackAction.Market) } },
        { "zero time", StopLimit(Sell, 0.1m, 59_000m, 58_900m) with { Fallback = new OrderFallback(TimeSpan.Zero, null, FallbackAction.Market) } },
        { "worst price on the good side", StopLimit(Sell, 0.1m, 59_000m, 58_900m) with { Fallback = new OrderFallback(null, 58_950m, FallbackAction.Market) } },
        { "worst price off tick", StopLimit(Buy, 0.1m, 61_000m, 61_100m) with { Fallback = new OrderFallback(null, 61_500.05m, FallbackAction.Cancel) } },
        { "unknown action", StopLimit(Buy, 0.1m, 61_000m, 61_100m) with { Fallback = new OrderFallback(null, 61_500m, (FallbackAction)7) } },
    };

    [Theory]
    [MemberData(nameof(InvalidFallbacks))]
    public void PlaceOrder_InvalidFallback_InvalidAndNothingChanges(string what, OrderRequest request)
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var before = kit.Shard.Fingerprint();

        var result = kit.Place(request);

        Assert.False(result.Succeeded, what);
        AssertRejected(result, RejectionKind.Invalid, "invalid_fallback");
        Assert.Equal(before, kit.Shard.Fingerprint());
    }
}
