using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Positions in isolated buckets: reduce-only, closing, fees, PnL, margin and liquidation.</summary>
public sealed class PositionTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    private static decimal D(string s) => decimal.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A kit at 50000 holding <paramref name="quantity"/> BTC (signed) in the manual bucket, entered at 50000.</summary>
    private static GrainTestKit Holding(decimal quantity, decimal manual = 10_000m)
    {
        var kit = new GrainTestKit(manual: manual);
        kit.Price(50000m);
        kit.PlaceOk(Market(quantity > 0 ? Buy : Sell, Math.Abs(quantity)));
        return kit;
    }

    // ---- reduce-only ----

    [Fact]
    public void PlaceOrder_ReduceOnlyMarketWithoutPosition_RejectedReduceOnlyWouldIncrease()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var result = kit.Place(Market(Sell, 0.1m) with { ReduceOnly = true });

        AssertRejected(result, RejectionKind.Business, "reduce_only_would_increase");
        var rejected = Assert.IsType<CommandRejected>(Assert.Single(result.Events));
        Assert.Equal("reduce_only_would_increase", rejected.Code);
        Assert.Null(kit.PositionOf());
    }

    [Theory]
    [InlineData(OrderType.Market)]
    [InlineData(OrderType.Limit)]
    public void PlaceOrder_ReduceOnlyOnTheSideOfThePosition_RejectedReduceOnlyWouldIncrease(OrderType type)
    {
        var kit = Holding(0.1m);
        var before = StateOf(kit.Shard, withEventCount: false);
        var request = type == OrderType.Market ? Market(Buy, 0.1m) : Limit(Buy, 0.1m, 49000m);

        var result = kit.Place(request with { ReduceOnly = true });

        AssertRejected(result, RejectionKind.Business, "reduce_only_would_increase");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
    }

    [Fact]
    public void PlaceOrder_ReduceOnlyLargerThanPosition_ClosesOnlyThePosition()
    {
        var kit = Holding(0.1m);
        kit.Price(50500m);

        var n = kit.PlaceOk(Market(Sell, 0.3m) with { ReduceOnly = true });

        var fill = Single<OrderFilled>(kit.Journal, f => f.Order == n);
        Assert.Equal((0.1m, 50500m, 50m), (fill.Quantity, fill.Price, fill.RealizedPnl));
        Assert.Null(kit.PositionOf());
        Assert.Equal((OrderStatus.Filled, 0.1m), (kit.OrderOf(n).Status, kit.OrderOf(n).FilledQuantity));
    }

    [Fact]
    public void OnPrices_ReduceOnlyStopAfterPositionFlipped_RejectedAndShortUnchanged()
    {
        var kit = Holding(0.1m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49000m) with { ReduceOnly = true });
        kit.PlaceOk(Market(Sell, 0.3m));
        Assert.Equal(-0.2m, kit.PositionOf()!.Quantity);

        var events = kit.Price(49000m);

        Assert.Equal(["OrderTriggered", "OrderRejected"], Kinds(events));
        Assert.Equal((OrderStatus.Rejected, "reduce_only_would_increase"), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Equal(-0.2m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void OnPrices_ReduceOnlyStopPlacedWithoutPosition_RejectedWhenItFires()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49000m) with { ReduceOnly = true });

        var events = kit.Price(49000m);

        Assert.Equal(["OrderTriggered", "OrderRejected"], Kinds(events));
        Assert.Equal((OrderStatus.Rejected, "reduce_only_would_increase"), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Null(kit.PositionOf());
        Assert.Equal(10_000m, kit.BucketOf().Balance);
    }

    [Fact]
    public void OnPrices_ClosePositionStopWithoutPosition_CancelledPositionClosed()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49000m) with { Quantity = null, ClosePosition = true });

        var events = kit.Price(49000m);

        Assert.Equal(["OrderTriggered", "OrderCancelled"], Kinds(events));
        Assert.Equal((OrderStatus.Cancelled, "position_closed"), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void OnPrices_ClosePositionStop_ClosesTheWholePositionAsItIsWhenFired()
    {
        var kit = Holding(0.1m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 49000m) with { Quantity = null, ClosePosition = true });
        kit.PlaceOk(Market(Buy, 0.15m));

        var fill = Single<OrderFilled>(kit.Price(49000m));

        Assert.Equal((stop, 0.25m, 49000m, -250m), (fill.Order, fill.Quantity, fill.Price, fill.RealizedPnl));
        Assert.Null(kit.PositionOf());
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(stop).Status);
    }

    // ---- closePosition command ----

    [Fact]
    public void ClosePosition_Long_SellsAllAtIndexRealizesPnlAndCancelsExits()
    {
        var kit = Holding(0.1m);
        var tp = kit.PlaceOk(TakeProfit(Sell, 0.1m, 52000m) with { ReduceOnly = true });
        var sl = kit.PlaceOk(Stop(Sell, 0.1m, 48000m) with { ReduceOnly = true });
        kit.Price(51000m);

        var result = kit.ClosePosition();

        Assert.True(result.Succeeded);
        Assert.Equal(["OrderAccepted", "OrderFilled", "OrderCancelled", "OrderCancelled"], Kinds(result.Events));
        var close = kit.OrderOf((long)result.Value!);
        Assert.Equal((OrderType.Market, OrderSide.Sell, true, OrderStatus.Filled), (close.Type, close.Side, close.Spec.ReduceOnly, close.Status));
        var fill = Single<OrderFilled>(result.Events);
        Assert.Equal((0.1m, 51000m, 2.55m, 100m, Liquidity.Taker), (fill.Quantity, fill.Price, fill.Fee, fill.RealizedPnl, fill.Liquidity));
        Assert.Equal([(tp, "position_closed"), (sl, "position_closed")], result.Events.OfType<OrderCancelled>().Select(c => (c.Order, c.Reason)));
        Assert.Null(kit.PositionOf());
        var bucket = kit.BucketOf();
        Assert.Equal((10_094.95m, 100m, 0m), (bucket.Balance, bucket.RealizedPnl, bucket.UsedMargin));
    }

    [Fact]
    public void ClosePosition_Short_BuysBackAllAtIndex()
    {
        var kit = Holding(-0.1m);
        kit.Price(49000m);

        var result = kit.ClosePosition();

        var fill = Single<OrderFilled>(result.Events);
        Assert.Equal((0.1m, 49000m, 100m), (fill.Quantity, fill.Price, fill.RealizedPnl));
        Assert.Equal(OrderSide.Buy, kit.OrderOf(fill.Order).Side);
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void ClosePosition_NoPosition_RejectedNoPosition()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var result = kit.ClosePosition();

        AssertRejected(result, RejectionKind.Business, "no_position");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
    }

    // ---- fees, PnL, entry price ----

    [Fact]
    public void PlaceOrder_MarketFill_TakerFeeDebitedFromBucketNotWallet()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        kit.PlaceOk(Market(Buy, 0.1m));

        var bucket = kit.BucketOf();
        Assert.Equal((9_997.5m, 500m, 9_497.5m), (bucket.Balance, bucket.UsedMargin, bucket.Available));
        Assert.Equal(90_000m, kit.AccountState.WalletBalance);
        var position = kit.PositionOf()!;
        Assert.Equal((0.1m, 50000m, 500m, 10), (position.Quantity, position.EntryPrice, position.Margin, position.Leverage));
    }

    [Fact]
    public void OnPrices_RestingLimitFill_MakerFeeDebitedFromBucket()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.PlaceOk(Limit(Sell, 0.1m, 50100m));

        kit.Price(50100m);

        Assert.Equal(10_000m - 1.002m, kit.BucketOf().Balance);
        Assert.Equal((-0.1m, 50100m, 501m), (kit.PositionOf()!.Quantity, kit.PositionOf()!.EntryPrice, kit.PositionOf()!.Margin));
    }

    [Fact]
    public void PlaceOrder_IncreaseAtAnotherPrice_AveragesEntryAndAddsMargin()
    {
        var kit = Holding(0.1m);
        kit.Price(51000m);

        kit.PlaceOk(Market(Buy, 0.3m));

        var position = kit.PositionOf()!;
        Assert.Equal((0.4m, 50750m, 2030m), (position.Quantity, position.EntryPrice, position.Margin));
        Assert.Equal(10_000m - 2.5m - 7.65m, kit.BucketOf().Balance);
    }

    [Fact]
    public void PlaceOrder_IncreaseWithRepeatingAverage_EntryRoundedToMoneyScale()
    {
        var kit = Holding(0.1m);
        kit.Price(50000.1m);

        kit.PlaceOk(Market(Buy, 0.2m));

        // (0.1 * 50000 + 0.2 * 50000.1) / 0.3 = 50000.0666...
        Assert.Equal(50000.06666667m, kit.PositionOf()!.EntryPrice);
        Assert.Equal(1500.002m, kit.PositionOf()!.Margin);
    }

    [Fact]
    public void PlaceOrder_PartialClose_RealizesPnlKeepsEntryReleasesMarginProRata()
    {
        var kit = Holding(0.1m);
        kit.Price(51000m);
        kit.PlaceOk(Market(Buy, 0.3m));

        var n = kit.PlaceOk(Market(Sell, 0.1m));

        Assert.Equal(25m, Single<OrderFilled>(kit.Journal, f => f.Order == n).RealizedPnl);
        var position = kit.PositionOf()!;
        Assert.Equal((0.3m, 50750m, 1522.5m), (position.Quantity, position.EntryPrice, position.Margin));
        Assert.Equal(25m, kit.BucketOf().RealizedPnl);
    }

    [Fact]
    public void PlaceOrder_ShortClosedLower_RealizesProfit()
    {
        var kit = Holding(-0.1m);
        kit.Price(49000m);

        var n = kit.PlaceOk(Market(Buy, 0.1m));

        var fill = Single<OrderFilled>(kit.Journal, f => f.Order == n);
        Assert.Equal((100m, 2.45m), (fill.RealizedPnl, fill.Fee));
        Assert.Equal(10_000m - 2.5m + 100m - 2.45m, kit.BucketOf().Balance);
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void PlaceOrder_SellMoreThanLong_FlipsToShortAtFillPrice()
    {
        var kit = Holding(0.1m);
        kit.Price(51000m);

        var n = kit.PlaceOk(Market(Sell, 0.3m));

        var fill = Single<OrderFilled>(kit.Journal, f => f.Order == n);
        Assert.Equal((0.3m, 100m, 7.65m), (fill.Quantity, fill.RealizedPnl, fill.Fee));
        var position = kit.PositionOf()!;
        // Short 0.2 at 51000, margin 1020: liquidation at (10200 + 1020) / (0.2 * 1.004) = 55876.49, rounded down.
        Assert.Equal((-0.2m, 51000m, 1020m, (decimal?)55876.4m), (position.Quantity, position.EntryPrice, position.Margin, position.LiquidationPrice));
        Assert.Equal(10_000m - 2.5m + 100m - 7.65m, kit.BucketOf().Balance);
    }

    [Fact]
    public void PlaceOrder_FlipWithoutMarginForTheNewSide_RejectedInsufficientMargin()
    {
        var kit = Holding(0.1m, manual: 1000m);

        var result = kit.Place(Market(Sell, 0.4m));

        AssertRejected(result, RejectionKind.Business, "insufficient_margin");
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void SetLeverage_Twenty_HalvesMarginAndMovesLiquidationCloser()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.SetLeverage(Btc, 20);

        kit.PlaceOk(Market(Buy, 0.1m));

        var position = kit.PositionOf()!;
        // (5000 - 250) / (0.1 * 0.996) = 47690.76, rounded up.
        Assert.Equal((250m, 20, (decimal?)47690.8m), (position.Margin, position.Leverage, position.LiquidationPrice));
    }

    // ---- margin ----

    [Theory]
    [InlineData("0.199", true)]
    [InlineData("0.2", false)]
    public void PlaceOrder_MarketNeedingMoreThanAvailableMargin_RejectedInsufficientMarginWithOnlyCommandRejected(string quantity, bool accepted)
    {
        // 1000 in the bucket: 0.199 needs 995 margin + 4.975 fee; 0.2 needs 1000 + 5.
        var kit = new GrainTestKit(manual: 1000m);
        kit.Price(50000m);
        var before = StateOf(kit.Shard, withEventCount: false);

        var result = kit.Place(Market(Buy, D(quantity)));

        if (accepted)
        {
            Assert.True(result.Succeeded);
            Assert.Equal((995m, 1000m - 4.975m, 0.025m), (kit.PositionOf()!.Margin, kit.BucketOf().Balance, kit.BucketOf().Available));
            return;
        }

        AssertRejected(result, RejectionKind.Business, "insufficient_margin");
        var rejected = Assert.IsType<CommandRejected>(Assert.Single(result.Events));
        Assert.Equal(("placeOrder", "insufficient_margin"), (rejected.Command, rejected.Code));
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
    }

    [Fact]
    public void PlaceOrder_MarketableLimitWithoutMargin_RejectedInsufficientMargin()
    {
        var kit = new GrainTestKit(manual: 100m);
        kit.Price(50000m);

        var result = kit.Place(Limit(Buy, 0.1m, 50100m));

        AssertRejected(result, RejectionKind.Business, "insufficient_margin");
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void PlaceOrder_OtherBucketIsFunded_StillRejectedInsufficientMargin()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var small = kit.CreateBucket("small", 100m);

        var result = kit.Place(Market(Buy, 0.1m) with { Bucket = small });

        AssertRejected(result, RejectionKind.Business, "insufficient_margin");
        Assert.Equal((10_000m, 100m), (kit.BucketOf().Balance, kit.BucketOf(small).Balance));
    }

    [Fact]
    public void OnPrices_StopFiresWithoutMargin_RejectedInsufficientMargin()
    {
        var kit = new GrainTestKit(manual: 100m);
        kit.Price(50000m);
        var stop = kit.PlaceOk(Stop(Buy, 0.1m, 50100m));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(stop).Status);

        var events = kit.Price(50100m);

        Assert.Equal(["OrderTriggered", "OrderRejected"], Kinds(events));
        var rejected = Single<OrderRejected>(events);
        Assert.Equal((stop, "insufficient_margin"), (rejected.Order, rejected.Reason));
        Assert.Equal((OrderStatus.Rejected, "insufficient_margin", 0m), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason, kit.OrderOf(stop).FilledQuantity));
        Assert.Null(kit.PositionOf());
        Assert.Equal(100m, kit.BucketOf().Balance);
    }

    [Fact]
    public void OnPrices_RestingLimitReachedWithoutMargin_RejectedInsufficientMargin()
    {
        var kit = new GrainTestKit(manual: 600m);
        kit.Price(50000m);
        var limit = kit.PlaceOk(Limit(Buy, 0.1m, 49900m));
        kit.Must(new TransferFunds(kit.Manual, TransferDirection.Out, 200m) { Account = kit.Account });

        var events = kit.Price(49900m);

        Assert.Equal(["OrderRejected"], Kinds(events));
        Assert.Equal((OrderStatus.Rejected, "insufficient_margin"), (kit.OrderOf(limit).Status, kit.OrderOf(limit).Reason));
    }

    // ---- liquidation ----

    [Fact]
    public void OnPrices_MarkReachesLongLiquidationPrice_ClosesOnlyThatBucketsPosition()
    {
        // Manual: long 0.1 at 50000, leverage 10, margin 500, liquidation (5000 - 500) / 0.0996 = 45180.72 -> 45180.8.
        var kit = Holding(0.1m);
        var manualExit = kit.PlaceOk(TakeProfit(Sell, 0.1m, 52000m) with { ReduceOnly = true });
        var other = kit.CreateBucket("copy", 10_000m);
        kit.SetLeverage(Btc, 2, other);
        kit.PlaceOk(Market(Buy, 0.1m) with { Bucket = other });
        var otherExit = kit.PlaceOk(TakeProfit(Sell, 0.1m, 52000m) with { Bucket = other, ReduceOnly = true });
        kit.Price(3000m, Eth);
        kit.PlaceOk(Market(Buy, 1m, Eth));
        Assert.Equal(45180.8m, kit.PositionOf()!.LiquidationPrice);

        Assert.Empty(kit.Prices(Btc, last: null, index: null, mark: 45180.9m));
        var events = kit.Prices(Btc, last: null, index: null, mark: 45180.8m);

        var liquidated = Single<PositionLiquidated>(events);
        Assert.Equal((kit.Manual, Btc, 0.1m, 45180.8m, -481.92m), (liquidated.Bucket, liquidated.Symbol, liquidated.Quantity, liquidated.Price, liquidated.RealizedPnl));
        Assert.Equal((manualExit, "position_closed"), (Single<OrderCancelled>(events).Order, Single<OrderCancelled>(events).Reason));
        Assert.Null(kit.PositionOf());
        Assert.Equal((1m, 3000m, 300m), (kit.PositionOf(Eth)!.Quantity, kit.PositionOf(Eth)!.EntryPrice, kit.PositionOf(Eth)!.Margin));
        Assert.Equal((10_000m - 2.5m - 1.5m - 481.92m, 300m), (kit.BucketOf().Balance, kit.BucketOf().UsedMargin));
        var untouched = kit.PositionOf(Btc, other)!;
        Assert.Equal((0.1m, 50000m, 2500m), (untouched.Quantity, untouched.EntryPrice, untouched.Margin));
        Assert.Equal(10_000m - 2.5m, kit.BucketOf(other).Balance);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(otherExit).Status);
        var fill = kit.AccountState.Fills.Last();
        Assert.Equal((Liquidity.Liquidation, OrderSide.Sell, 0.1m, 45180.8m), (fill.Liquidity, fill.Side, fill.Quantity, fill.Price));
    }

    [Fact]
    public void OnPrices_MarkGapsFarBeyondLiquidation_LossCappedAtPositionMargin()
    {
        var kit = Holding(0.1m);
        var other = kit.CreateBucket("copy", 10_000m);
        kit.SetLeverage(Btc, 2, other);
        kit.PlaceOk(Market(Buy, 0.1m) with { Bucket = other });

        var events = kit.Prices(Btc, last: null, index: null, mark: 40000m);

        var liquidated = Single<PositionLiquidated>(events);
        Assert.Equal((kit.Manual, 40000m, -500m), (liquidated.Bucket, liquidated.Price, liquidated.RealizedPnl));
        Assert.Equal((9_497.5m, -500m), (kit.BucketOf().Balance, kit.BucketOf().RealizedPnl));
        Assert.Equal((0.1m, 9_997.5m), (kit.PositionOf(Btc, other)!.Quantity, kit.BucketOf(other).Balance));
        Assert.Equal(80_000m, kit.AccountState.WalletBalance);
    }

    [Fact]
    public void OnPrices_StopLossFillGapsBeyondBankruptcy_LossCappedAtPositionMargin()
    {
        // Long 0.1 at 50000 with margin 500 (leverage 10): a fill below 45000 would lose more than the margin.
        var kit = Holding(0.1m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 47000m) with { ReduceOnly = true });
        var balance = kit.BucketOf().Balance;

        // The index gaps straight through the stop and the bankruptcy price; the mark has not moved yet.
        var events = kit.Prices(Btc, last: null, index: 40000m, mark: 50000m);

        var fill = Single<OrderFilled>(events);
        Assert.Equal((stop, 0.1m, 40000m, -500m, 0m), (fill.Order, fill.Quantity, fill.Price, fill.RealizedPnl, fill.Fee));
        Assert.Null(kit.PositionOf());
        Assert.Equal(balance - 500m, kit.BucketOf().Balance);
        Assert.Equal(90_000m, kit.AccountState.WalletBalance);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_StopLossFillLosesLessThanMargin_PaysItsFeeInFull()
    {
        var kit = Holding(0.1m);
        kit.PlaceOk(Stop(Sell, 0.1m, 47000m) with { ReduceOnly = true });

        var fill = Single<OrderFilled>(kit.Prices(Btc, last: null, index: 46000m, mark: 50000m));

        // Loss 400 plus a taker fee of 0.1 * 46000 * 0.0005 = 2.3: 402.3 < 500, nothing is capped.
        Assert.Equal((-400m, 2.3m), (fill.RealizedPnl, fill.Fee));
    }

    [Fact]
    public void OnPrices_MarkReachesShortLiquidationPrice_Liquidates()
    {
        // Short 0.1 at 50000, margin 500: (5000 + 500) / (0.1 * 1.004) = 54780.88 -> 54780.8.
        var kit = Holding(-0.1m);
        Assert.Equal(54780.8m, kit.PositionOf()!.LiquidationPrice);

        Assert.Empty(kit.Prices(Btc, last: null, index: null, mark: 54780.7m));
        var liquidated = Single<PositionLiquidated>(kit.Prices(Btc, last: null, index: null, mark: 54780.8m));

        Assert.Equal((-0.1m, 54780.8m, -478.08m), (liquidated.Quantity, liquidated.Price, liquidated.RealizedPnl));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void OnPrices_IndexAndLastBeyondLiquidationButMarkNot_NoLiquidation()
    {
        var kit = Holding(0.1m);

        var events = kit.Prices(Btc, last: 40000m, index: 40000m, mark: 50000m);

        Assert.Empty(events);
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void OnPrices_LiquidationAfterIncrease_UsesTheNewLiquidationPrice()
    {
        var kit = Holding(0.1m);
        kit.Price(51000m);
        kit.PlaceOk(Market(Buy, 0.3m));
        // 0.4 at 50750, margin 2030: (20300 - 2030) / (0.4 * 0.996) = 45858.43 -> 45858.5.
        Assert.Equal(45858.5m, kit.PositionOf()!.LiquidationPrice);

        Assert.Empty(kit.Prices(Btc, last: null, index: null, mark: 45858.6m));
        var liquidated = Single<PositionLiquidated>(kit.Prices(Btc, last: null, index: null, mark: 45858.5m));

        Assert.Equal((0.4m, 45858.5m), (liquidated.Quantity, liquidated.Price));
    }

    [Fact]
    public void OnPrices_MarkStopFlipsPositionInTheTickThatCrossesOldLiquidation_NewShortNotLiquidated()
    {
        var kit = Holding(0.1m);
        var stop = kit.PlaceOk(Stop(Sell, 0.3m, 45500m, TriggerSource.Mark));

        // The mark passes the stop (45500) and then the long's liquidation price (45180.8) in one update.
        var events = kit.Prices(Btc, last: null, index: 45400m, mark: 45000m);

        Assert.DoesNotContain(events, e => e is PositionLiquidated);
        Assert.Equal((stop, 0.3m, 45400m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Quantity, Single<OrderFilled>(events).Price));
        var position = kit.PositionOf()!;
        // Short 0.2 at 45400, margin 908: (9080 + 908) / (0.2 * 1.004) = 49741.03 -> 49741.0.
        Assert.Equal((-0.2m, 45400m, 908m, (decimal?)49741.0m), (position.Quantity, position.EntryPrice, position.Margin, position.LiquidationPrice));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_MarkTakeProfitAddsToLongInTheTickThatCrossesOldLiquidation_NotLiquidated()
    {
        var kit = Holding(0.1m);
        kit.PlaceOk(TakeProfit(Buy, 0.3m, 45300m, TriggerSource.Mark));

        var events = kit.Prices(Btc, last: null, index: 45300m, mark: 45100m);

        Assert.DoesNotContain(events, e => e is PositionLiquidated);
        var position = kit.PositionOf()!;
        // 0.4 at 46475, margin 1859: (18590 - 1859) / (0.4 * 0.996) = 41995.48 -> 41995.5.
        Assert.Equal((0.4m, 46475m, 1859m, (decimal?)41995.5m), (position.Quantity, position.EntryPrice, position.Margin, position.LiquidationPrice));
        Assert.Single(kit.Prices(Btc, last: null, index: null, mark: 41995.5m).OfType<PositionLiquidated>());
    }

    // ---- stop beyond liquidation ----

    [Theory]
    [InlineData("0.1", OrderSide.Sell, OrderType.Stop, "45180.8", false)]
    [InlineData("0.1", OrderSide.Sell, OrderType.Stop, "45000", false)]
    [InlineData("0.1", OrderSide.Sell, OrderType.Stop, "45180.9", true)]
    [InlineData("0.1", OrderSide.Sell, OrderType.StopLimit, "45180.8", false)]
    [InlineData("-0.1", OrderSide.Buy, OrderType.Stop, "54780.8", false)]
    [InlineData("-0.1", OrderSide.Buy, OrderType.Stop, "54780.7", true)]
    public void PlaceOrder_StopLossAtOrBeyondLiquidation_RejectedStopBeyondLiquidation(string held, OrderSide side, OrderType type, string trigger, bool accepted)
    {
        var kit = Holding(D(held));
        var t = D(trigger);
        var request = type == OrderType.Stop ? Stop(side, 0.1m, t) : StopLimit(side, 0.1m, t, t);

        var result = kit.Place(request with { ReduceOnly = true });

        if (accepted)
        {
            Assert.True(result.Succeeded);
            return;
        }

        AssertRejected(result, RejectionKind.Business, "stop_beyond_liquidation");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void PlaceOrder_ClosePositionStopBeyondLiquidation_RejectedStopBeyondLiquidation()
    {
        var kit = Holding(0.1m);

        var result = kit.Place(Stop(Sell, 0.1m, 45000m) with { Quantity = null, ClosePosition = true });

        AssertRejected(result, RejectionKind.Business, "stop_beyond_liquidation");
    }

    [Fact]
    public void AmendOrder_StopLossTriggerMovedBeyondLiquidation_RejectedStopBeyondLiquidation()
    {
        var kit = Holding(0.1m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 48000m) with { ReduceOnly = true });

        var result = kit.Amend(stop, triggerPrice: 45000m);

        AssertRejected(result, RejectionKind.Business, "stop_beyond_liquidation");
        Assert.Equal(48000m, kit.OrderOf(stop).TriggerPrice);
    }

    // ---- replay ----

    [Fact]
    public void Apply_ReplayOfTradesFlipsAndLiquidations_RebuildsSameState()
    {
        var kit = Holding(0.1m);
        var other = kit.CreateBucket("copy", 5_000m);
        kit.SetLeverage(Btc, 3, other);
        kit.PlaceOk(Market(Sell, 0.05m) with { Bucket = other });
        kit.PlaceOk(Stop(Sell, 0.1m, 47000m) with { ReduceOnly = true });
        kit.Price(51000m);
        kit.PlaceOk(Market(Buy, 0.3m));
        kit.PlaceOk(Market(Sell, 0.6m));
        kit.Price(50000.1m);
        kit.PlaceOk(Market(Buy, 0.05m));
        kit.AssertReplayMatches();

        kit.Prices(Btc, last: null, index: null, mark: 60000m);
        kit.ClosePosition(Btc, other);
        kit.Price(3000m, Eth);
        kit.PlaceOk(Market(Buy, 1m, Eth));

        kit.AssertReplayMatches();
    }
}
