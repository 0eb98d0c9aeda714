using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>A halted symbol's orders wait; at the resume they are evaluated at the prices of that moment.</summary>
public sealed class SymbolHaltTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    [Fact]
    public void OnPrices_SymbolHalted_NothingFiresUntilTheResumeThenAtTheResumePrice()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 58_000m));
        var trailing = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        var limit = kit.PlaceOk(Limit(Buy, 0.1m, 57_500m));
        kit.Halt(reason: HaltReasons.PriceMove);

        var during = kit.Price(57_000m);

        Assert.Empty(during);
        Assert.All(new[] { stop, trailing }, n => Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(limit).Status);
        kit.Price(57_400m);

        var resumed = kit.Resume(reason: HaltReasons.BreakerClosed);

        Assert.IsType<SymbolResumed>(resumed[0]);
        Assert.Equal(57_400m, Single<OrderTriggered>(resumed, t => t.Order == stop).Price);
        Assert.Equal(57_400m, kit.OrderOf(stop).AverageFillPrice);
        Assert.Equal(57_400m, Single<OrderTriggered>(resumed, t => t.Order == trailing).Price);
        Assert.Equal((OrderStatus.Filled, 57_500m), (kit.OrderOf(limit).Status, kit.OrderOf(limit).AverageFillPrice));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void Resume_PriceBackAboveTheTrigger_TheWickFiresNothing()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 58_000m));
        kit.Halt(reason: HaltReasons.PriceMove);
        kit.Price(57_000m);
        kit.Price(59_800m);

        var resumed = kit.Resume(reason: HaltReasons.BreakerClosed);

        Assert.Equal(["SymbolResumed"], Kinds(resumed));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(stop).Status);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void PlaceOrder_MarketOnHaltedSymbol_RejectedSymbolHaltedWhileLimitsWait()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        kit.Price(3_000m, Eth);
        kit.PlaceOk(Market(Buy, 0.05m));
        kit.Halt();

        AssertRejected(kit.Place(Market(Buy, 0.1m)), RejectionKind.Business, "symbol_halted");
        AssertRejected(kit.ClosePosition(), RejectionKind.Business, "symbol_halted");
        kit.PlaceOk(Market(Buy, 0.1m, Eth));
        // A marketable limit does not execute while halted: it rests, and at the resume it fills as a
        // resting limit the index has crossed does (at its own price).
        var limit = kit.PlaceOk(Limit(Buy, 0.1m, 60_100m));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(limit).Status);
        Assert.Equal(0m, kit.OrderOf(limit).FilledQuantity);

        kit.Resume();

        Assert.Equal(OrderStatus.Filled, kit.OrderOf(limit).Status);
        Assert.Equal(60_100m, kit.OrderOf(limit).AverageFillPrice);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_HaltedSymbolBeyondLiquidation_LiquidatesOnlyAtTheResume()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        kit.SetLeverage(Btc, 50);
        kit.PlaceOk(Market(Buy, 0.1m));
        var liquidation = kit.PositionOf()!.LiquidationPrice!.Value;
        kit.Halt(reason: HaltReasons.PriceMove);

        kit.Price(liquidation - 500m);
        Assert.NotNull(kit.PositionOf());

        var resumed = kit.Resume(reason: HaltReasons.BreakerClosed);

        Assert.Single(resumed.OfType<PositionLiquidated>());
        Assert.Null(kit.PositionOf());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void SetSymbolHalt_SameHaltTwice_RecordsItOnce()
    {
        var kit = new GrainTestKit();

        Assert.Single(kit.Halt());
        Assert.Empty(kit.Halt());
        Assert.Single(kit.Halt(reason: HaltReasons.PriceMove, until: kit.Now.AddSeconds(30)));
        Assert.Single(kit.Resume());
        Assert.Empty(kit.Resume());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void Restore_HaltedSymbol_StaysHaltedWithItsReasonSinceAndUntil()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 58_000m));
        kit.Halt(reason: HaltReasons.PriceMove, until: kit.Now.AddSeconds(30));

        var restored = kit.Restored();

        Assert.Equal(kit.Shard.Fingerprint(), restored.Fingerprint());
        var halt = Assert.Single(restored.Halts);
        Assert.Equal((Btc, HaltReasons.PriceMove, kit.Now, kit.Now.AddSeconds(30)), (halt.Key, halt.Value.Reason, halt.Value.Since, halt.Value.Until));
        var output = new List<EngineEvent>();
        restored.OnPrices(Btc, new Quote(57_000m, 57_000m, 57_000m), kit.Now, output);
        Assert.Empty(output);
        restored.SetSymbolHalt(Btc, null, HaltReasons.BreakerClosed, kit.Now, output);
        Assert.Contains(output, e => e is OrderTriggered t && t.Order == stop);
    }
}
