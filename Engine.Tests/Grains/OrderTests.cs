using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Single orders: every type's firing rule, time in force, validation, amend and cancel.</summary>
public sealed class OrderTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    // ---- market ----

    [Fact]
    public void PlaceOrder_Market_FillsAtIndexAsTaker()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var at = kit.Cursor;

        var n = kit.PlaceOk(Market(Buy, 0.1m));

        var events = kit.Since(at);
        Assert.Equal(["OrderAccepted", "OrderFilled"], Kinds(events));
        var fill = Single<OrderFilled>(events);
        Assert.Equal((n, 0.1m, 50000m, 2.5m, 0m, Liquidity.Taker), (fill.Order, fill.Quantity, fill.Price, fill.Fee, fill.RealizedPnl, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
        Assert.Equal(0.1m, kit.OrderOf(n).FilledQuantity);
        Assert.Equal(50000m, kit.OrderOf(n).AverageFillPrice);
    }

    [Theory]
    [InlineData(OrderSide.Buy, "50050")]
    [InlineData(OrderSide.Sell, "49950")]
    public void PlaceOrder_MarketWithSlippage_FillsAgainstTheTakerOnTick(OrderSide side, string expected)
    {
        var kit = new GrainTestKit(slippage: 0.001m);
        kit.Price(50000m);

        var n = kit.PlaceOk(Market(side, 0.1m));

        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), kit.OrderOf(n).AverageFillPrice);
    }

    [Fact]
    public void PlaceOrder_MarketWithoutAnyPrice_RejectedNoPrice()
    {
        var kit = new GrainTestKit();

        var result = kit.Place(Market(Buy, 0.1m));

        AssertRejected(result, RejectionKind.Business, "no_price");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
    }

    // ---- every trigger type fires on the exact crossing ----

    public static TheoryData<string> CrossingCases =>
    [
        "stop buy", "stop sell", "stopLimit buy", "stopLimit sell", "takeProfit buy", "takeProfit sell",
        "takeProfitLimit buy", "takeProfitLimit sell",
    ];

    /// <summary>A conditional order placed at 50000, the price one tick short of its trigger, the trigger, the fill.</summary>
    private static (OrderRequest Request, decimal OneTickShort, decimal Trigger, decimal Fill) CrossingCase(string name) => name switch
    {
        "stop buy" => (Stop(Buy, 0.1m, 50100m), 50099.9m, 50100m, 50100m),
        "stop sell" => (Stop(Sell, 0.1m, 49900m), 49900.1m, 49900m, 49900m),
        "stopLimit buy" => (StopLimit(Buy, 0.1m, 50100m, 50200m), 50099.9m, 50100m, 50100m),
        "stopLimit sell" => (StopLimit(Sell, 0.1m, 49900m, 49800m), 49900.1m, 49900m, 49900m),
        "takeProfit buy" => (TakeProfit(Buy, 0.1m, 49900m), 49900.1m, 49900m, 49900m),
        "takeProfit sell" => (TakeProfit(Sell, 0.1m, 50100m), 50099.9m, 50100m, 50100m),
        "takeProfitLimit buy" => (TakeProfitLimit(Buy, 0.1m, 49900m, 49950m), 49900.1m, 49900m, 49900m),
        "takeProfitLimit sell" => (TakeProfitLimit(Sell, 0.1m, 50100m, 50050m), 50099.9m, 50100m, 50100m),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(CrossingCases))]
    public void OnPrices_ConditionalOneTickShortThenAtTrigger_FiresOnlyAtTrigger(string name)
    {
        var (request, oneTickShort, trigger, fillPrice) = CrossingCase(name);
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(request);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status);

        var before = kit.Price(oneTickShort);

        Assert.Empty(before);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status);

        var events = kit.Price(trigger);

        Assert.Equal(["OrderTriggered", "OrderFilled"], Kinds(events));
        Assert.Equal(trigger, Single<OrderTriggered>(events).Price);
        var fill = Single<OrderFilled>(events);
        Assert.Equal((0.1m, fillPrice, Liquidity.Taker), (fill.Quantity, fill.Price, fill.Liquidity));
        var order = kit.OrderOf(n);
        Assert.Equal((OrderStatus.Filled, trigger, 0.1m), (order.Status, order.TriggeredPrice, order.FilledQuantity));
    }

    [Theory]
    [InlineData(OrderSide.Buy, "49900", "49900.1")]
    [InlineData(OrderSide.Sell, "50100", "50099.9")]
    public void OnPrices_RestingLimitOneTickShortThenAtPrice_FillsAtItsPriceAsMaker(OrderSide side, string priceText, string shortText)
    {
        var price = decimal.Parse(priceText, System.Globalization.CultureInfo.InvariantCulture);
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(side, 0.1m, price));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(n).Status);

        Assert.Empty(kit.Price(decimal.Parse(shortText, System.Globalization.CultureInfo.InvariantCulture)));
        var events = kit.Price(price);

        var fill = Single<OrderFilled>(events);
        Assert.Equal((0.1m, price, Money.Round(0.1m * price * 0.0002m), Liquidity.Maker), (fill.Quantity, fill.Price, fill.Fee, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
        Assert.Equal(10_000m - fill.Fee, kit.BucketOf().Balance);
    }

    [Fact]
    public void OnPrices_IndexGapsThroughRestingBuyLimit_FillsAtLimitPriceNotTheGap()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));

        var events = kit.Price(49000m);

        var fill = Single<OrderFilled>(events);
        Assert.Equal((49900m, 0.998m, Liquidity.Maker), (fill.Price, fill.Fee, fill.Liquidity));
        Assert.Equal(49900m, kit.PositionOf()!.EntryPrice);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_RestingLimitWhenOnlyLastCrosses_DoesNotFill()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));

        var events = kit.Prices(Btc, last: 49000m, index: null, mark: 49000m);

        Assert.Empty(events);
        Assert.Equal(OrderStatus.Open, kit.OrderOf(n).Status);
    }

    [Fact]
    public void PlaceOrder_MarketableLimit_FillsAtIndexAsTaker()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var n = kit.PlaceOk(Limit(Buy, 0.1m, 50100m));

        var fill = Single<OrderFilled>(kit.Journal);
        Assert.Equal((50000m, 2.5m, Liquidity.Taker), (fill.Price, fill.Fee, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    // ---- gaps ----

    [Fact]
    public void OnPrices_IndexGapsThroughSellStop_TriggersAtGapPriceAndFillsThere()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        var events = kit.Price(49000m);

        Assert.Equal(49000m, Single<OrderTriggered>(events).Price);
        Assert.Equal(49000m, Single<OrderFilled>(events).Price);
        Assert.Equal(49000m, kit.OrderOf(n).TriggeredPrice);
    }

    [Fact]
    public void OnPrices_LastGapsThroughSellStopByLast_TriggersAtLastFillsAtIndex()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m, TriggerSource.Last));

        var events = kit.Prices(Btc, last: 49500m, index: 49700m, mark: null);

        Assert.Equal(["OrderTriggered", "OrderFilled"], Kinds(events));
        Assert.Equal(49500m, Single<OrderTriggered>(events).Price);
        Assert.Equal(49700m, Single<OrderFilled>(events).Price);
        Assert.Equal((OrderStatus.Filled, 49500m), (kit.OrderOf(n).Status, kit.OrderOf(n).TriggeredPrice));
    }

    [Fact]
    public void OnPrices_MarkGapsThroughBuyStopByMark_TriggersAtMarkFillsAtIndex()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.PlaceOk(Stop(Buy, 0.1m, 50100m, TriggerSource.Mark));

        Assert.Empty(kit.Prices(Btc, last: 50200m, index: 50150m, mark: 50099.9m));
        var events = kit.Prices(Btc, last: null, index: 50300m, mark: 50600m);

        Assert.Equal(50600m, Single<OrderTriggered>(events).Price);
        Assert.Equal(50300m, Single<OrderFilled>(events).Price);
    }

    [Fact]
    public void OnPrices_StopByIndexWhenOnlyLastAndMarkCross_DoesNotFire()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        Assert.Empty(kit.Prices(Btc, last: 49000m, index: null, mark: 49000m));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_GapThroughStopLimitBeyondItsLimit_RestsThenFillsAtLimitAsMaker()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(StopLimit(Sell, 0.1m, 49900m, 49800m));

        var gap = kit.Price(49500m);

        Assert.Equal(["OrderTriggered"], Kinds(gap));
        Assert.Equal(49500m, Single<OrderTriggered>(gap).Price);
        Assert.Equal(OrderStatus.Open, kit.OrderOf(n).Status);
        Assert.Empty(kit.Price(49799.9m));

        var fill = Single<OrderFilled>(kit.Price(49800m));
        Assert.Equal((49800m, Liquidity.Maker), (fill.Price, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    // ---- trailing stops ----

    [Fact]
    public void OnPrices_TrailingSellByRate_FollowsHighAndFiresExactlyAtCallback()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        Assert.Equal(50000m, Single<TrailingStopActivated>(kit.Journal).Extreme);

        kit.Price(51000m);
        kit.Price(50600m);
        Assert.Equal(51000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.Empty(kit.Price(50490.1m));

        var events = kit.Price(50490m);

        Assert.Equal(50490m, Single<OrderTriggered>(events).Price);
        Assert.Equal(50490m, Single<OrderFilled>(events).Price);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_TrailingSellByAmount_FiresExactlyAtExtremeMinusAmount()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByAmount(Sell, 0.1m, 150m));

        kit.Price(51000m);
        Assert.Empty(kit.Price(50850.1m));
        var events = kit.Price(50850m);

        Assert.Equal(50850m, Single<OrderTriggered>(events).Price);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_TrailingBuyByRate_FollowsLowAndFiresExactlyAtCallback()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Buy, 0.1m, 0.01m));

        kit.Price(49000m);
        kit.Price(49400m);
        Assert.Equal(49000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.Empty(kit.Price(49489.9m));
        var events = kit.Price(49490m);

        Assert.Equal(49490m, Single<OrderTriggered>(events).Price);
        Assert.Equal(49490m, Single<OrderFilled>(events).Price);
    }

    [Fact]
    public void OnPrices_TrailingBuyByAmountWithActivation_IgnoresMovesBeforeActivation()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByAmount(Buy, 0.1m, 200m, activation: 49500m));
        Assert.Equal(OrderPhase.AwaitingActivation, kit.OrderOf(n).Phase);

        // Trailing from 49600 would fire at 49800; before activation nothing may happen.
        Assert.Empty(kit.Price(49600m));
        Assert.Empty(kit.Price(49800m));
        Assert.Null(kit.Shard.TrailingExtreme(kit.OrderOf(n)));

        var activation = kit.Price(49500m);
        Assert.Equal(49500m, Single<TrailingStopActivated>(activation).Extreme);
        kit.Price(49000m);
        Assert.Empty(kit.Price(49199.9m));
        var events = kit.Price(49200m);

        Assert.Equal(49200m, Single<OrderTriggered>(events).Price);
        Assert.Equal((OrderStatus.Filled, 49200m), (kit.OrderOf(n).Status, kit.OrderOf(n).AverageFillPrice));
    }

    [Fact]
    public void OnPrices_TrailingSellByRateWithActivation_StartsTrailingAtActivation()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m, activation: 51000m));

        // Trailing from 50900 would fire at 50391; not yet active.
        Assert.Empty(kit.Price(50900m));
        Assert.Empty(kit.Price(50000m));
        Assert.Equal(51000m, Single<TrailingStopActivated>(kit.Price(51000m)).Extreme);
        kit.Price(51500m);
        Assert.Empty(kit.Price(50985.1m));
        var events = kit.Price(50985m);

        Assert.Equal(50985m, Single<OrderTriggered>(events).Price);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_GapThroughTrailingActivation_StartsFromTheGapPrice()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByAmount(Sell, 0.1m, 100m, activation: 51000m));

        var events = kit.Price(51200m);

        Assert.Equal(51200m, Single<TrailingStopActivated>(events).Extreme);
        Assert.Empty(kit.Price(51100.1m));
        Assert.Equal(51100m, Single<OrderTriggered>(kit.Price(51100m)).Price);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void PlaceOrder_TrailingWithActivationAlreadyPassed_ActivatesAtCurrentPrice()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m, activation: 49000m));

        Assert.Equal(OrderPhase.Trailing, kit.OrderOf(n).Phase);
        Assert.Equal(50000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status);
    }

    [Fact]
    public void PlaceOrder_TrailingWithoutActivationOrPrice_RejectedNoPrice()
    {
        var kit = new GrainTestKit();

        var result = kit.Place(TrailingByRate(Sell, 0.1m, 0.01m));

        AssertRejected(result, RejectionKind.Business, "no_price");
    }

    // ---- time in force ----

    [Fact]
    public void AdvanceTime_GtdLimitAtExpireAt_ExpiresAndNeverFills()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var expireAt = T0.AddHours(1);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49000m, TimeInForce.Gtd) with { ExpireAt = expireAt });

        Assert.Empty(kit.AdvanceTo(expireAt.AddTicks(-1)));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(n).Status);
        var events = kit.AdvanceTo(expireAt);

        var expired = Single<OrderExpired>(events);
        Assert.Equal((n, OrderReasons.GtdExpired), (expired.Order, expired.Reason));
        Assert.Equal((OrderStatus.Expired, "gtd_expired"), (kit.OrderOf(n).Status, kit.OrderOf(n).Reason));
        Assert.Empty(kit.Price(48000m));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void AdvanceTime_GtdStopAtExpireAt_ExpiresAndLeavesTheBook()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var expireAt = T0.AddMinutes(5);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m) with { TimeInForce = TimeInForce.Gtd, ExpireAt = expireAt });

        kit.AdvanceTo(expireAt.AddMinutes(1));

        Assert.Equal(OrderStatus.Expired, kit.OrderOf(n).Status);
        Assert.Equal(0, kit.Shard.TriggerCount);
        Assert.Empty(kit.Price(49000m));
    }

    [Fact]
    public void PlaceOrder_GtdExpireAtNotInFuture_RejectedInvalidExpireAt()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var result = kit.Place(Limit(Buy, 0.1m, 49000m, TimeInForce.Gtd) with { ExpireAt = T0 });

        AssertRejected(result, RejectionKind.Invalid, "invalid_expire_at");
    }

    [Theory]
    [InlineData(TimeInForce.Ioc, "ioc_not_filled")]
    [InlineData(TimeInForce.Fok, "fok_not_filled")]
    public void PlaceOrder_IocOrFokNotMarketable_Expires(TimeInForce tif, string reason)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var at = kit.Cursor;

        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m, tif));

        Assert.Equal(["OrderAccepted", "OrderExpired"], Kinds(kit.Since(at)));
        Assert.Equal((OrderStatus.Expired, reason), (kit.OrderOf(n).Status, kit.OrderOf(n).Reason));
        Assert.Empty(kit.Price(49900m));
        Assert.Null(kit.PositionOf());
    }

    [Theory]
    [InlineData(TimeInForce.Ioc)]
    [InlineData(TimeInForce.Fok)]
    public void PlaceOrder_IocOrFokMarketable_FillsAtIndexAsTaker(TimeInForce tif)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var n = kit.PlaceOk(Limit(Sell, 0.1m, 49900m, tif));

        var fill = Single<OrderFilled>(kit.Journal);
        Assert.Equal((50000m, Liquidity.Taker), (fill.Price, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void OnPrices_IocStopLimitTriggeredNotMarketable_Expires()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(StopLimit(Sell, 0.1m, 49900m, 49800m) with { TimeInForce = TimeInForce.Ioc });

        var events = kit.Price(49700m);

        Assert.Equal(["OrderTriggered", "OrderExpired"], Kinds(events));
        Assert.Equal((OrderStatus.Expired, "ioc_not_filled"), (kit.OrderOf(n).Status, kit.OrderOf(n).Reason));
    }

    // ---- validation ----

    public static TheoryData<string> InvalidCases =>
    [
        "unknown symbol", "zero quantity", "negative quantity", "missing quantity", "quantity off lot step",
        "price off tick", "trigger off tick", "huge quantity", "max decimal quantity", "huge price", "huge trigger",
        "negative price", "missing trigger", "missing limit price", "trigger on a market order", "below min notional",
        "gtd without expireAt", "trailing without callback", "trailing rate too high", "callback amount off tick",
        "unknown bucket", "stop would immediately trigger", "take-profit would immediately trigger",
    ];

    private static (OrderRequest Request, RejectionKind Kind, string Code) InvalidCase(string name) => name switch
    {
        "unknown symbol" => (Market(Buy, 0.1m, "DOGE-USDT"), RejectionKind.Invalid, "unknown_symbol"),
        "zero quantity" => (Market(Buy, 0m), RejectionKind.Invalid, "invalid_quantity"),
        "negative quantity" => (Limit(Buy, -0.1m, 49000m), RejectionKind.Invalid, "invalid_quantity"),
        "missing quantity" => (Market(Buy, 0.1m) with { Quantity = null }, RejectionKind.Invalid, "invalid_quantity"),
        "quantity off lot step" => (Market(Buy, 0.0015m), RejectionKind.Invalid, "invalid_lot_size"),
        "price off tick" => (Limit(Buy, 0.1m, 49000.05m), RejectionKind.Invalid, "invalid_tick_size"),
        "trigger off tick" => (Stop(Sell, 0.1m, 49000.01m), RejectionKind.Invalid, "invalid_tick_size"),
        "huge quantity" => (Market(Buy, 10_000_000_000m), RejectionKind.Invalid, "invalid_quantity"),
        "max decimal quantity" => (Limit(Buy, decimal.MaxValue, 49000m), RejectionKind.Invalid, "invalid_quantity"),
        "huge price" => (Limit(Buy, 0.1m, 1_000_000_000_000m), RejectionKind.Invalid, "invalid_price"),
        "huge trigger" => (Stop(Buy, 0.1m, decimal.MaxValue), RejectionKind.Invalid, "invalid_trigger_price"),
        "negative price" => (Limit(Buy, 0.1m, -49000m), RejectionKind.Invalid, "invalid_price"),
        "missing trigger" => (Stop(Sell, 0.1m, 49000m) with { TriggerPrice = null }, RejectionKind.Invalid, "invalid_trigger_price"),
        "missing limit price" => (Limit(Buy, 0.1m, 49000m) with { Price = null }, RejectionKind.Invalid, "invalid_price"),
        "trigger on a market order" => (Market(Buy, 0.1m) with { TriggerPrice = 51000m }, RejectionKind.Invalid, "invalid_trigger_price"),
        "below min notional" => (Limit(Buy, 0.001m, 4000m), RejectionKind.Invalid, "notional_below_minimum"),
        "gtd without expireAt" => (Limit(Buy, 0.1m, 49000m, TimeInForce.Gtd), RejectionKind.Invalid, "invalid_expire_at"),
        "trailing without callback" => (TrailingByRate(Sell, 0.1m, 0.01m) with { CallbackRate = null }, RejectionKind.Invalid, "invalid_callback"),
        "trailing rate too high" => (TrailingByRate(Sell, 0.1m, 0.5m), RejectionKind.Invalid, "invalid_callback"),
        "callback amount off tick" => (TrailingByAmount(Sell, 0.1m, 100.05m), RejectionKind.Invalid, "invalid_tick_size"),
        "unknown bucket" => (Market(Buy, 0.1m) with { Bucket = new BucketId("acc-1-b9") }, RejectionKind.NotFound, "not_found"),
        "stop would immediately trigger" => (Stop(Buy, 0.1m, 49900m), RejectionKind.Business, "would_immediately_trigger"),
        "take-profit would immediately trigger" => (TakeProfit(Sell, 0.1m, 50000m), RejectionKind.Business, "would_immediately_trigger"),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void PlaceOrder_InvalidRequest_RejectedWithCodeAndStateUnchanged(string name)
    {
        var (request, kind, code) = InvalidCase(name);
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        kit.PlaceOk(Stop(Sell, 0.1m, 49000m));
        var before = StateOf(kit.Shard, withEventCount: false);
        var eventsBefore = kit.AccountState.EventSequence;

        var result = kit.Place(request);

        AssertRejected(result, kind, code);
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
        if (kind == RejectionKind.Business)
        {
            var rejected = Assert.IsType<CommandRejected>(Assert.Single(result.Events));
            Assert.Equal(("placeOrder", code), (rejected.Command, rejected.Code));
            Assert.Equal(eventsBefore + 1, kit.AccountState.EventSequence);
        }
        else
        {
            Assert.Empty(result.Events);
            Assert.Equal(eventsBefore, kit.AccountState.EventSequence);
        }
    }

    // ---- amend ----

    [Fact]
    public void AmendOrder_WaitingStopQuantity_FillsTheNewQuantity()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        var result = kit.Amend(n, quantity: 0.25m);

        Assert.True(result.Succeeded);
        var amended = Assert.IsType<OrderAmended>(Assert.Single(result.Events));
        Assert.Equal((n, 0.25m, (decimal?)49900m), (amended.Order, amended.Quantity, amended.TriggerPrice));
        Assert.Equal(0.25m, Single<OrderFilled>(kit.Price(49900m)).Quantity);
        Assert.Equal(-0.25m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void AmendOrder_WaitingStopTrigger_FiresAtTheNewTriggerOnly()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        Assert.True(kit.Amend(n, triggerPrice: 49500m).Succeeded);

        Assert.Equal(49500m, kit.OrderOf(n).TriggerPrice);
        Assert.Empty(kit.Price(49900m));
        Assert.Empty(kit.Price(49500.1m));
        Assert.Equal(49500m, Single<OrderTriggered>(kit.Price(49500m)).Price);
        Assert.Single(kit.Journal.OfType<OrderTriggered>());
    }

    [Fact]
    public void AmendOrder_TriggerAlreadySatisfied_RejectedWouldImmediatelyTrigger()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        var result = kit.Amend(n, triggerPrice: 50000m);

        AssertRejected(result, RejectionKind.Business, "would_immediately_trigger");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Equal((49900m, OrderStatus.Untriggered), (kit.OrderOf(n).TriggerPrice!.Value, kit.OrderOf(n).Status));
        Assert.Empty(kit.Price(49900.1m));
        Assert.Single(kit.Price(49900m).OfType<OrderTriggered>());
    }

    [Fact]
    public void AmendOrder_RestingLimitPrice_FillsAtTheNewPrice()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));

        Assert.True(kit.Amend(n, price: 49800m).Succeeded);

        Assert.Empty(kit.Price(49900m));
        var fill = Single<OrderFilled>(kit.Price(49800m));
        Assert.Equal((49800m, Liquidity.Maker), (fill.Price, fill.Liquidity));
    }

    [Fact]
    public void AmendOrder_RestingLimitPriceToMarketable_FillsAtOnceAsTaker()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));

        var result = kit.Amend(n, price: 50100m);

        Assert.Equal(["OrderAmended", "OrderFilled"], Kinds(result.Events));
        var fill = Single<OrderFilled>(result.Events);
        Assert.Equal((50000m, Liquidity.Taker), (fill.Price, fill.Liquidity));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void AmendOrder_TrailingCallbackRateWhileTrailing_KeepsExtremeAndFiresAtNewRate()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        kit.Price(51000m);

        var result = kit.Amend(n, callbackRate: 0.02m);

        Assert.True(result.Succeeded);
        Assert.Equal(0.02m, kit.OrderOf(n).CallbackRate);
        Assert.Equal(51000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.Empty(kit.Price(50490m));
        kit.Price(52000m);
        Assert.Empty(kit.Price(50960.1m));
        var events = kit.Price(50960m);
        Assert.Equal(50960m, Single<OrderTriggered>(events).Price);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void AmendOrder_TrailingQuantityWhileTrailing_StillTrailsFromTheSameExtreme()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByAmount(Buy, 0.1m, 100m));
        kit.Price(49000m);

        Assert.True(kit.Amend(n, quantity: 0.2m).Succeeded);

        Assert.Equal(49000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.Empty(kit.Price(49099.9m));
        var fill = Single<OrderFilled>(kit.Price(49100m));
        Assert.Equal((0.2m, 49100m), (fill.Quantity, fill.Price));
    }

    [Fact]
    public void AmendOrder_TrailingCallbackRateBeforeActivation_UsesNewRateOnceActive()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m, activation: 51000m));

        Assert.True(kit.Amend(n, callbackRate: 0.02m).Succeeded);

        Assert.Empty(kit.Price(50500m));
        Assert.Single(kit.Price(51000m).OfType<TrailingStopActivated>());
        kit.Price(52000m);
        Assert.Empty(kit.Price(50960.1m));
        Assert.Equal(50960m, Single<OrderTriggered>(kit.Price(50960m)).Price);
    }

    [Fact]
    public void AmendOrder_ReplayAfterTrailingAmend_RebuildsTheTrailingEntry()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        kit.Price(51000m);
        kit.Amend(n, callbackRate: 0.02m);
        kit.Price(51500m);

        var replayed = kit.Replay();

        Assert.Equal(51500m, replayed.TrailingExtreme(replayed.Orders[n]));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void AmendOrder_TrailingCallbackRateWhoseTriggerAlreadyHolds_RejectedWouldImmediatelyTrigger()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        kit.Price(51000m);
        kit.Price(50600m);

        // 0.5% below the 51000 high is 50745, which the current 50600 already satisfies.
        var result = kit.Amend(n, callbackRate: 0.005m);

        AssertRejected(result, RejectionKind.Business, "would_immediately_trigger");
        Assert.Equal(0.01m, kit.OrderOf(n).CallbackRate);
        Assert.Equal(51000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        Assert.True(kit.Amend(n, callbackRate: 0.009m).Succeeded);
        Assert.Empty(kit.Price(50541.1m));
        Assert.Equal(50541m, Single<OrderTriggered>(kit.Price(50541m)).Price);
    }

    [Fact]
    public void OnPrices_TrailingSellByMark_FollowsMarkNotIndex()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(TrailingByAmount(Sell, 0.1m, 100m) with { TriggerBy = TriggerSource.Mark });

        Assert.Empty(kit.Prices(Btc, last: null, index: 52000m, mark: null));
        Assert.Equal(50000m, kit.Shard.TrailingExtreme(kit.OrderOf(n)));
        kit.Prices(Btc, last: null, index: null, mark: 50500m);
        Assert.Empty(kit.Prices(Btc, last: null, index: null, mark: 50400.1m));
        var events = kit.Prices(Btc, last: null, index: null, mark: 50400m);

        Assert.Equal(50400m, Single<OrderTriggered>(events).Price);
        Assert.Equal(52000m, Single<OrderFilled>(events).Price);
    }

    public static TheoryData<string> AmendRejections =>
    [
        "nothing to amend", "quantity off lot", "price off tick", "trigger off tick", "price on a stop",
        "callback rate on a stop", "trigger on a trailing stop", "callback rate too high", "zero quantity",
    ];

    [Theory]
    [MemberData(nameof(AmendRejections))]
    public void AmendOrder_InvalidChange_RejectedAndOrderUnchanged(string name)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));
        var limit = kit.PlaceOk(Limit(Buy, 0.1m, 49000m));
        var trailing = kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        var before = StateOf(kit.Shard);
        var (result, code) = name switch
        {
            "nothing to amend" => (kit.Amend(stop), "nothing_to_amend"),
            "quantity off lot" => (kit.Amend(stop, quantity: 0.1005m), "invalid_lot_size"),
            "price off tick" => (kit.Amend(limit, price: 49000.05m), "invalid_tick_size"),
            "trigger off tick" => (kit.Amend(stop, triggerPrice: 49800.01m), "invalid_tick_size"),
            "price on a stop" => (kit.Amend(stop, price: 49800m), "invalid_price"),
            "callback rate on a stop" => (kit.Amend(stop, callbackRate: 0.02m), "invalid_callback"),
            "trigger on a trailing stop" => (kit.Amend(trailing, triggerPrice: 49000m), "invalid_trigger_price"),
            "callback rate too high" => (kit.Amend(trailing, callbackRate: 0.25m), "invalid_callback"),
            "zero quantity" => (kit.Amend(limit, quantity: 0m), "invalid_quantity"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        AssertRejected(result, RejectionKind.Invalid, code);
        Assert.Empty(result.Events);
        Assert.Equal(before, StateOf(kit.Shard));
    }

    [Fact]
    public void AmendOrder_FilledOrder_RejectedOrderClosed()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Market(Buy, 0.1m));

        var result = kit.Amend(n, quantity: 0.2m);

        AssertRejected(result, RejectionKind.Business, "order_closed");
        Assert.Equal(0.1m, kit.OrderOf(n).Quantity);
    }

    [Fact]
    public void AmendOrder_TriggerOfTriggeredStopLimit_RejectedInvalidTriggerPrice()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(StopLimit(Sell, 0.1m, 49900m, 49800m));
        kit.Price(49500m);

        var result = kit.Amend(n, triggerPrice: 49400m);

        AssertRejected(result, RejectionKind.Invalid, "invalid_trigger_price");
        Assert.Equal(OrderStatus.Open, kit.OrderOf(n).Status);
    }

    // ---- cancel ----

    [Fact]
    public void CancelOrder_WaitingStop_CancelledByUserAndNeverFires()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));

        var result = kit.Cancel(n);

        var cancelled = Assert.IsType<OrderCancelled>(Assert.Single(result.Events));
        Assert.Equal((n, "user"), (cancelled.Order, cancelled.Reason));
        Assert.Equal((OrderStatus.Cancelled, "user"), (kit.OrderOf(n).Status, kit.OrderOf(n).Reason));
        Assert.Equal(0, kit.Shard.TriggerCount);
        Assert.Empty(kit.Price(49000m));
    }

    [Fact]
    public void CancelOrder_RestingLimit_NeverFills()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));

        kit.Cancel(n);

        Assert.Empty(kit.Price(49000m));
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(n).Status);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void CancelOrder_FilledOrder_RejectedOrderClosed()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Market(Buy, 0.1m));

        var result = kit.Cancel(n);

        AssertRejected(result, RejectionKind.Business, "order_closed");
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(n).Status);
    }

    [Fact]
    public void CancelOrder_AnotherAccountsOrder_NotFound()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var n = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));
        var other = new AccountId("acc-2");
        kit.Must(new OpenAccount("other", "h2") { Account = other });

        var result = kit.Execute(new CancelOrder(n) { Account = other });

        AssertRejected(result, RejectionKind.NotFound, "not_found");
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(n).Status);
    }

    [Fact]
    public void CancelOrders_BySymbol_CancelsOnlyThatSymbol()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.Price(3000m, Eth);
        var btcStop = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));
        var btcLimit = kit.PlaceOk(Limit(Buy, 0.1m, 49000m));
        var eth = kit.PlaceOk(Limit(Buy, 1m, 2900m, symbol: Eth));

        var result = kit.Execute(new CancelOrders(Btc, null) { Account = kit.Account });

        Assert.Equal(2, result.Value);
        Assert.Equal([btcStop, btcLimit], result.Events.OfType<OrderCancelled>().Select(c => c.Order));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(eth).Status);
        Assert.Equal(new[] { eth }, kit.AccountState.LiveOrders);
    }

    [Fact]
    public void CancelOrders_ByBucket_CancelsOnlyThatBucket()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var second = kit.CreateBucket("swing", 5000m);
        var manual = kit.PlaceOk(Stop(Sell, 0.1m, 49900m));
        var inSecond = kit.PlaceOk(Stop(Sell, 0.1m, 49900m) with { Bucket = second });

        var result = kit.Execute(new CancelOrders(null, second) { Account = kit.Account });

        Assert.Equal(1, result.Value);
        Assert.Equal((OrderStatus.Cancelled, OrderStatus.Untriggered), (kit.OrderOf(inSecond).Status, kit.OrderOf(manual).Status));
        Assert.Equal(manual, Single<OrderFilled>(kit.Price(49900m)).Order);
    }

    [Fact]
    public void CancelOrders_NoFilter_CancelsEveryLiveOrder()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.Price(3000m, Eth);
        kit.PlaceOk(Stop(Sell, 0.1m, 49900m));
        kit.PlaceOk(TrailingByRate(Sell, 0.1m, 0.01m));
        kit.PlaceOk(Limit(Buy, 1m, 2900m, symbol: Eth));

        var result = kit.Execute(new CancelOrders(null, null) { Account = kit.Account });

        Assert.Equal(3, result.Value);
        Assert.Empty(kit.AccountState.LiveOrders);
        Assert.Equal(0, kit.Shard.TriggerCount);
    }

    // ---- replay ----

    [Fact]
    public void Apply_ReplayOfMixedOrderLifecycle_RebuildsSameState()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.PlaceOk(Stop(Sell, 0.1m, 49900m, TriggerSource.Last));
        var limit = kit.PlaceOk(Limit(Buy, 0.2m, 49500m));
        kit.PlaceOk(TrailingByAmount(Buy, 0.1m, 300m, activation: 49800m));
        kit.PlaceOk(Limit(Buy, 0.1m, 49000m, TimeInForce.Gtd) with { ExpireAt = T0.AddMinutes(1) });
        kit.PlaceOk(StopLimit(Buy, 0.1m, 50500m, 50600m));
        kit.Amend(limit, price: 49600m);
        kit.Prices(Btc, last: 49900m, index: 49950m, mark: 49950m);
        kit.Price(49700m);
        kit.AdvanceTo(T0.AddMinutes(2));
        kit.Price(49600m);
        kit.Price(49650m);

        kit.AssertReplayMatches();
    }
}
