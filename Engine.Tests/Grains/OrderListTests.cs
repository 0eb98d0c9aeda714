using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Order lists: OCO, OTO, bracket and breakout straddle.</summary>
public sealed class OrderListTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    private static OrderListRequest Oco(OrderRequest a, OrderRequest b) => new() { Type = OrderListType.Oco, Legs = [a, b] };

    private static OrderListRequest Oto(OrderRequest primary, params OrderRequest[] secondary) =>
        new() { Type = OrderListType.Oto, Primary = primary, Secondary = secondary };

    private static OrderListRequest Bracket(OrderRequest entry, decimal takeProfit, decimal stopLoss, decimal? takeProfitPrice = null, decimal? stopLossPrice = null) =>
        new()
        {
            Type = OrderListType.Bracket,
            Entry = entry,
            TakeProfit = new ExitRequest(takeProfit, takeProfitPrice),
            StopLoss = new ExitRequest(stopLoss, stopLossPrice),
        };

    private static OrderListRequest Straddle(decimal quantity, decimal above, decimal below, decimal? takeProfit, decimal? stopLoss) =>
        new()
        {
            Type = OrderListType.Straddle,
            Symbol = Btc,
            Quantity = quantity,
            AboveTrigger = above,
            BelowTrigger = below,
            TakeProfitDistance = takeProfit,
            StopLossDistance = stopLoss,
        };

    /// <summary>The numbers of a list's orders, in acceptance order.</summary>
    private static long[] Members(GrainTestKit kit, ListId list) => kit.AccountState.Lists[list.Value].Orders;

    // ---- OCO ----

    [Fact]
    public void OnPrices_OcoSellLimitAndSellStopLimitBothSatisfiedByOneQuote_OnlyTheLimitFills()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oco(Limit(Sell, 0.1m, 51000m), StopLimit(Sell, 0.1m, 49000m, 48900m, TriggerSource.Last)));
        var (limit, stopLimit) = (Members(kit, list)[0], Members(kit, list)[1]);
        Assert.Equal((OrderStatus.Open, OrderStatus.Untriggered), (kit.OrderOf(limit).Status, kit.OrderOf(stopLimit).Status));

        // The index reaches the limit and last reaches the stop in the same update.
        var events = kit.Prices(Btc, last: 49000m, index: 51000m, mark: null);

        Assert.Equal(["OrderFilled", "OrderCancelled"], Kinds(events));
        var fill = Single<OrderFilled>(events);
        Assert.Equal((limit, 0.1m, 51000m, Liquidity.Maker), (fill.Order, fill.Quantity, fill.Price, fill.Liquidity));
        var cancelled = Single<OrderCancelled>(events);
        Assert.Equal((stopLimit, "oco_sibling_triggered"), (cancelled.Order, cancelled.Reason));
        Assert.Equal((OrderStatus.Filled, OrderStatus.Cancelled), (kit.OrderOf(limit).Status, kit.OrderOf(stopLimit).Status));
        Assert.Equal(-0.1m, kit.PositionOf()!.Quantity);
        Assert.Equal(1, kit.Shard.TriggerCount); // only the new short's liquidation level is left
    }

    [Fact]
    public void OnPrices_OcoLegsOnIndexAndMarkBothCrossedInOneQuote_ExactlyOneFires()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oco(TakeProfit(Sell, 0.1m, 50500m, TriggerSource.Mark), Stop(Sell, 0.1m, 49500m)));
        var (takeProfit, stop) = (Members(kit, list)[0], Members(kit, list)[1]);

        var events = kit.Prices(Btc, last: null, index: 49500m, mark: 50500m);

        Assert.Equal(["OrderTriggered", "OrderCancelled", "OrderFilled"], Kinds(events));
        Assert.Equal((stop, 49500m), (Single<OrderTriggered>(events).Order, Single<OrderTriggered>(events).Price));
        Assert.Equal((takeProfit, "oco_sibling_triggered"), (Single<OrderCancelled>(events).Order, Single<OrderCancelled>(events).Reason));
        Assert.Equal((stop, 0.1m, 49500m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Quantity, Single<OrderFilled>(events).Price));
        Assert.Equal((OrderStatus.Cancelled, "oco_sibling_triggered"), (kit.OrderOf(takeProfit).Status, kit.OrderOf(takeProfit).Reason));
    }

    [Fact]
    public void OnPrices_OcoLegsInOneBookGappedTogether_OnlyTheNearerLegFires()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oco(StopLimit(Sell, 0.1m, 49800m, 49700m), Stop(Sell, 0.1m, 49900m)));
        var (stopLimit, stop) = (Members(kit, list)[0], Members(kit, list)[1]);

        var events = kit.Price(49500m);

        Assert.Equal(stop, Single<OrderTriggered>(events).Order);
        Assert.Equal((stop, 49500m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Price));
        Assert.Equal((stopLimit, "oco_sibling_triggered"), (Single<OrderCancelled>(events).Order, Single<OrderCancelled>(events).Reason));
        Assert.Equal(-0.1m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void OnPrices_OcoAfterOneLegFired_OtherLegsTriggerDoesNothing()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oco(TakeProfit(Sell, 0.1m, 50500m), Stop(Sell, 0.1m, 49500m)));
        kit.Price(50500m);
        var afterFirst = kit.Cursor;

        kit.Price(49500m);

        Assert.DoesNotContain(kit.Since(afterFirst), e => e is OrderTriggered or OrderFilled);
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(Members(kit, list)[0]).Status);
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(Members(kit, list)[1]).Status);
    }

    [Fact]
    public void PlaceOrderList_OcoWithMarketableLimitLeg_FillsItAndCancelsTheOtherLeg()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var list = kit.PlaceListOk(Oco(Limit(Buy, 0.1m, 50100m), Stop(Buy, 0.1m, 50500m)));

        var (limit, stop) = (Members(kit, list)[0], Members(kit, list)[1]);
        Assert.Equal((OrderStatus.Filled, 50000m), (kit.OrderOf(limit).Status, kit.OrderOf(limit).AverageFillPrice));
        Assert.Equal((OrderStatus.Cancelled, "oco_sibling_triggered"), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Reason));
        Assert.Empty(kit.Price(50500m));
    }

    [Fact]
    public void PlaceOrderList_OcoLegWouldImmediatelyTrigger_RejectedAndNothingAccepted()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var before = StateOf(kit.Shard, withEventCount: false);

        var result = kit.PlaceList(Oco(TakeProfit(Sell, 0.1m, 50500m), Stop(Sell, 0.1m, 50000m)));

        AssertRejected(result, RejectionKind.Business, "would_immediately_trigger");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
    }

    [Theory]
    [InlineData("market leg")]
    [InlineData("different symbols")]
    [InlineData("one leg")]
    public void PlaceOrderList_InvalidOco_RejectedInvalidList(string name)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        kit.Price(3000m, Eth);
        var request = name switch
        {
            "market leg" => Oco(Market(Sell, 0.1m), Stop(Sell, 0.1m, 49500m)),
            "different symbols" => Oco(TakeProfit(Sell, 0.1m, 50500m), Stop(Sell, 1m, 2900m, symbol: Eth)),
            _ => new OrderListRequest { Type = OrderListType.Oco, Legs = [Stop(Sell, 0.1m, 49500m)] },
        };

        var result = kit.PlaceList(request);

        AssertRejected(result, RejectionKind.Invalid, "invalid_list");
        Assert.Empty(result.Events);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void Apply_ListsWhoseOrdersAreAllForgotten_AreForgottenToo()
    {
        var kit = new GrainTestKit(options: new ShardOptions { DoneOrderHistory = 2 });
        kit.Index(50_000m);
        var first = kit.PlaceListOk(Oco(GrainTestKit.Limit(Buy, 0.01m, 49_000m), GrainTestKit.Stop(Buy, 0.01m, 51_000m)));
        foreach (var o in kit.AccountState.Lists[first.Value].Orders) kit.Cancel(o);
        Assert.True(kit.AccountState.Lists.ContainsKey(first.Value));

        // Two more finished orders push the list's orders out of the recent history.
        kit.Cancel(kit.PlaceOk(GrainTestKit.Limit(Buy, 0.01m, 48_000m)));
        kit.Cancel(kit.PlaceOk(GrainTestKit.Limit(Buy, 0.01m, 48_000m)));

        Assert.False(kit.AccountState.Lists.ContainsKey(first.Value));
        kit.AssertReplayMatches();
    }

    // ---- OTO ----

    [Fact]
    public void OnPrices_OtoTrailingSecondaryArmedBeforeItsSourceHasAPrice_ActivatesOnTheFirstPrice()
    {
        var kit = new GrainTestKit();
        kit.Index(50_000m);
        // The exit trails the last price, which has not been seen yet when the entry fills.
        var exit = GrainTestKit.TrailingByRate(Sell, 0.01m, 0.01m) with { TriggerBy = TriggerSource.Last, ReduceOnly = true };
        kit.PlaceListOk(Oto(GrainTestKit.Market(Buy, 0.01m), exit));
        var trailing = kit.Shard.Orders.Values.Single(o => o.Type == OrderType.TrailingStop);
        Assert.Equal(OrderPhase.AwaitingActivation, trailing.Phase);

        kit.Prices(GrainTestKit.Btc, 50_100m, null, null);
        Assert.Equal(OrderPhase.Trailing, trailing.Phase);
        Assert.Equal(50_100m, kit.Shard.TrailingExtreme(trailing));

        kit.Prices(GrainTestKit.Btc, 49_599m, null, null);
        Assert.Equal(OrderStatus.Filled, trailing.Status);
        Assert.Equal(49_599m, trailing.TriggeredPrice);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void OnPrices_OtoSecondariesBeforePrimaryFills_WaitUntriggeredOutOfTheBook()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oto(Limit(Buy, 0.1m, 49900m), TakeProfit(Sell, 0.1m, 51000m), Stop(Sell, 0.1m, 50500m)));
        var (primary, tp, stop) = (Members(kit, list)[0], Members(kit, list)[1], Members(kit, list)[2]);

        Assert.Equal((OrderStatus.Untriggered, OrderPhase.Pending), (kit.OrderOf(tp).Status, kit.OrderOf(tp).Phase));
        Assert.Equal((OrderStatus.Untriggered, OrderPhase.Pending), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Phase));
        Assert.Equal(1, kit.Shard.TriggerCount);

        // Both secondaries would fire here if they were armed.
        Assert.Empty(kit.Price(51000m));
        Assert.Empty(kit.Price(50400m));
        Assert.Equal((OrderStatus.Open, OrderStatus.Untriggered, OrderStatus.Untriggered),
            (kit.OrderOf(primary).Status, kit.OrderOf(tp).Status, kit.OrderOf(stop).Status));
    }

    [Fact]
    public void OnPrices_OtoPrimaryFills_ArmsSecondariesWhichThenFireOnTheirOwn()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oto(Limit(Buy, 0.1m, 49900m), TakeProfit(Sell, 0.1m, 51000m), Stop(Sell, 0.05m, 49000m)));
        var (primary, tp, stop) = (Members(kit, list)[0], Members(kit, list)[1], Members(kit, list)[2]);

        var fill = kit.Price(49900m);

        Assert.Equal(["OrderFilled", "OrderActivated", "OrderActivated"], Kinds(fill));
        var activated = fill.OfType<OrderActivated>().ToArray();
        Assert.Equal((tp, 0.1m, (decimal?)51000m, OrderPhase.Waiting), (activated[0].Order, activated[0].Quantity, activated[0].TriggerPrice, activated[0].Phase));
        Assert.Equal((stop, 0.05m, (decimal?)49000m, OrderPhase.Waiting), (activated[1].Order, activated[1].Quantity, activated[1].TriggerPrice, activated[1].Phase));
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(primary).Status);
        Assert.Equal((OrderStatus.Untriggered, OrderStatus.Untriggered), (kit.OrderOf(tp).Status, kit.OrderOf(stop).Status));

        Assert.Empty(kit.Price(50999.9m));
        var events = kit.Price(51000m);
        Assert.Equal((tp, 51000m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Price));
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(stop).Status);
    }

    [Fact]
    public void CancelOrder_OtoPrimary_CancelsSecondariesAsPrimaryNotFilled()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oto(Limit(Buy, 0.1m, 49900m), TakeProfit(Sell, 0.1m, 51000m), Stop(Sell, 0.1m, 49000m)));
        var members = Members(kit, list);

        var result = kit.Cancel(members[0]);

        Assert.Equal(
            [(members[0], "user"), (members[1], "primary_not_filled"), (members[2], "primary_not_filled")],
            result.Events.Cast<OrderCancelled>().Select(c => (c.Order, c.Reason)));
        Assert.All(members, m => Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(m).Status));
        Assert.Empty(kit.AccountState.LiveOrders);
        Assert.Empty(kit.Price(49000m));
    }

    [Fact]
    public void PlaceOrderList_OtoPrimaryIocNotMarketable_ExpiresAndCancelsSecondaries()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var list = kit.PlaceListOk(Oto(Limit(Buy, 0.1m, 49900m, TimeInForce.Ioc), Stop(Sell, 0.1m, 49000m)));

        var members = Members(kit, list);
        Assert.Equal((OrderStatus.Expired, "ioc_not_filled"), (kit.OrderOf(members[0]).Status, kit.OrderOf(members[0]).Reason));
        Assert.Equal((OrderStatus.Cancelled, "primary_not_filled"), (kit.OrderOf(members[1]).Status, kit.OrderOf(members[1]).Reason));
    }

    [Fact]
    public void OnPrices_OtoPrimaryStopFillsWithMarketSecondary_SecondaryExecutesAtOnce()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oto(Stop(Buy, 0.1m, 50100m), Market(Buy, 0.05m)));
        var (primary, secondary) = (Members(kit, list)[0], Members(kit, list)[1]);

        var events = kit.Price(50200m);

        Assert.Equal(["OrderTriggered", "OrderFilled", "OrderActivated", "OrderFilled"], Kinds(events));
        Assert.Equal([(primary, 0.1m), (secondary, 0.05m)], events.OfType<OrderFilled>().Select(f => (f.Order, f.Quantity)));
        Assert.Equal(0.15m, kit.PositionOf()!.Quantity);
    }

    [Fact]
    public void OnPrices_OtoPrimaryRejectedForMargin_CancelsSecondaries()
    {
        var kit = new GrainTestKit(manual: 100m);
        kit.Price(50000m);
        var list = kit.PlaceListOk(Oto(Stop(Buy, 0.1m, 50100m), TakeProfit(Sell, 0.1m, 51000m)));
        var (primary, secondary) = (Members(kit, list)[0], Members(kit, list)[1]);

        var events = kit.Price(50100m);

        Assert.Equal(["OrderTriggered", "OrderRejected", "OrderCancelled"], Kinds(events));
        Assert.Equal((OrderStatus.Rejected, "insufficient_margin"), (kit.OrderOf(primary).Status, kit.OrderOf(primary).Reason));
        Assert.Equal((OrderStatus.Cancelled, "primary_not_filled"), (kit.OrderOf(secondary).Status, kit.OrderOf(secondary).Reason));
    }

    // ---- bracket ----

    [Fact]
    public void PlaceOrderList_BracketWithRestingEntry_ExitsWaitUnsizedUntilEntryFills()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var list = kit.PlaceListOk(Bracket(Limit(Buy, 0.1m, 49900m), takeProfit: 51000m, stopLoss: 49000m));

        var (entry, tp, sl) = (Members(kit, list)[0], Members(kit, list)[1], Members(kit, list)[2]);
        Assert.Equal(OrderStatus.Open, kit.OrderOf(entry).Status);
        foreach (var exit in new[] { tp, sl })
        {
            var o = kit.OrderOf(exit);
            Assert.Equal((OrderStatus.Untriggered, OrderPhase.Pending, 0m, true, OrderSide.Sell), (o.Status, o.Phase, o.Quantity, o.Spec.ReduceOnly, o.Side));
        }

        Assert.Equal((OrderType.TakeProfit, (long?)sl), (kit.OrderOf(tp).Type, kit.OrderOf(tp).Spec.OcoSibling));
        Assert.Equal((OrderType.Stop, (long?)tp), (kit.OrderOf(sl).Type, kit.OrderOf(sl).Spec.OcoSibling));
        Assert.Empty(kit.Price(51000m));
    }

    [Fact]
    public void OnPrices_BracketEntryFillsThenTakeProfit_ExitsSizedToFillAndStopLossCancelled()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Limit(Buy, 0.1m, 49900m), takeProfit: 51000m, stopLoss: 49000m));
        var (entry, tp, sl) = (Members(kit, list)[0], Members(kit, list)[1], Members(kit, list)[2]);

        var fill = kit.Price(49900m);

        Assert.Equal(["OrderFilled", "OrderActivated", "OrderActivated"], Kinds(fill));
        Assert.Equal([(tp, 0.1m, (decimal?)51000m), (sl, 0.1m, (decimal?)49000m)],
            fill.OfType<OrderActivated>().Select(a => (a.Order, a.Quantity, a.TriggerPrice)));
        Assert.Equal((0.1m, 0.1m), (kit.OrderOf(tp).Quantity, kit.OrderOf(sl).Quantity));

        var exit = kit.Price(51000m);

        Assert.Equal(["OrderTriggered", "OrderCancelled", "OrderFilled"], Kinds(exit));
        Assert.Equal((sl, "oco_sibling_triggered"), (Single<OrderCancelled>(exit).Order, Single<OrderCancelled>(exit).Reason));
        var tpFill = Single<OrderFilled>(exit);
        Assert.Equal((tp, 0.1m, 51000m, 110m), (tpFill.Order, tpFill.Quantity, tpFill.Price, tpFill.RealizedPnl));
        Assert.Null(kit.PositionOf());
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(entry).Status);
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void OnPrices_BracketMarketEntryThenStopLoss_TakeProfitCancelledAndLossRealized()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Market(Sell, 0.2m), takeProfit: 49000m, stopLoss: 50800m));
        var (tp, sl) = (Members(kit, list)[1], Members(kit, list)[2]);
        Assert.Equal((0.2m, OrderSide.Buy, OrderPhase.Waiting), (kit.OrderOf(sl).Quantity, kit.OrderOf(sl).Side, kit.OrderOf(sl).Phase));

        Assert.Empty(kit.Price(50799.9m));
        var events = kit.Price(50800m);

        Assert.Equal((tp, "oco_sibling_triggered"), (Single<OrderCancelled>(events).Order, Single<OrderCancelled>(events).Reason));
        var fill = Single<OrderFilled>(events);
        Assert.Equal((sl, 0.2m, 50800m, -160m), (fill.Order, fill.Quantity, fill.Price, fill.RealizedPnl));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void OnPrices_BracketStopLossAfterPartialManualClose_ClosesOnlyWhatIsLeft()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Market(Buy, 0.1m), takeProfit: 51000m, stopLoss: 49000m));
        var sl = Members(kit, list)[2];
        kit.PlaceOk(Market(Sell, 0.04m) with { ReduceOnly = true });

        var fill = Single<OrderFilled>(kit.Price(49000m));

        Assert.Equal((sl, 0.06m), (fill.Order, fill.Quantity));
        Assert.Null(kit.PositionOf());
        Assert.Equal(OrderStatus.Filled, kit.OrderOf(sl).Status);
    }

    [Fact]
    public void OnPrices_BracketWithLimitTakeProfit_TriggersThenFillsAsLimit()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Market(Buy, 0.1m), takeProfit: 51000m, stopLoss: 49000m, takeProfitPrice: 51100m));
        var tp = Members(kit, list)[1];
        Assert.Equal((OrderType.TakeProfitLimit, (decimal?)51100m), (kit.OrderOf(tp).Type, kit.OrderOf(tp).Price));

        var trigger = kit.Price(51000m);

        Assert.Equal(["OrderTriggered", "OrderCancelled"], Kinds(trigger));
        Assert.Equal(OrderStatus.Open, kit.OrderOf(tp).Status);
        var fill = Single<OrderFilled>(kit.Price(51100m));
        Assert.Equal((tp, 51100m, Liquidity.Maker, 110m), (fill.Order, fill.Price, fill.Liquidity, fill.RealizedPnl));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void OnPrices_BracketWithStopEntryGappedThrough_ExitsArmAtTheirOwnPrices()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Stop(Buy, 0.1m, 50500m), takeProfit: 51500m, stopLoss: 49500m));
        var (entry, tp, sl) = (Members(kit, list)[0], Members(kit, list)[1], Members(kit, list)[2]);
        Assert.Empty(kit.Price(50499.9m));

        var events = kit.Price(50700m);

        Assert.Equal(["OrderTriggered", "OrderFilled", "OrderActivated", "OrderActivated"], Kinds(events));
        Assert.Equal((entry, 50700m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Price));
        Assert.Equal((51500m, 49500m), (kit.OrderOf(tp).TriggerPrice!.Value, kit.OrderOf(sl).TriggerPrice!.Value));
        var exit = Single<OrderFilled>(kit.Price(49500m));
        Assert.Equal((sl, 0.1m, -120m), (exit.Order, exit.Quantity, exit.RealizedPnl));
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(tp).Status);
    }

    [Fact]
    public void CancelOrder_BracketEntry_CancelsItsExits()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Bracket(Limit(Buy, 0.1m, 49900m), takeProfit: 51000m, stopLoss: 49000m));
        var members = Members(kit, list);

        kit.Cancel(members[0]);

        Assert.Equal((OrderStatus.Cancelled, "primary_not_filled"), (kit.OrderOf(members[1]).Status, kit.OrderOf(members[1]).Reason));
        Assert.Equal((OrderStatus.Cancelled, "primary_not_filled"), (kit.OrderOf(members[2]).Status, kit.OrderOf(members[2]).Reason));
        Assert.Empty(kit.Price(49000m));
    }

    [Theory]
    [InlineData("45180.8", false)]
    [InlineData("45180.9", true)]
    public void PlaceOrderList_BracketStopLossAtOrBeyondLiquidation_RejectedStopBeyondLiquidation(string stopLoss, bool accepted)
    {
        // Long at 50000 with leverage 10 and maintenance 0.4%: liquidation at 45000 / 0.996 = 45180.72, rounded up to 45180.8.
        var kit = new GrainTestKit();
        kit.Price(50000m);

        var result = kit.PlaceList(Bracket(Market(Buy, 0.1m), takeProfit: 51000m,
            stopLoss: decimal.Parse(stopLoss, System.Globalization.CultureInfo.InvariantCulture)));

        if (accepted)
        {
            Assert.True(result.Succeeded);
            return;
        }

        AssertRejected(result, RejectionKind.Business, "stop_beyond_liquidation");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Null(kit.PositionOf());
    }

    [Theory]
    [InlineData(OrderSide.Buy, "49000", "49500", "invalid_take_profit")]
    [InlineData(OrderSide.Buy, "51000", "50000", "invalid_stop_loss")]
    [InlineData(OrderSide.Sell, "51000", "50500", "invalid_take_profit")]
    [InlineData(OrderSide.Sell, "49000", "49500", "invalid_stop_loss")]
    public void PlaceOrderList_BracketExitOnWrongSideOfEntry_Rejected(OrderSide side, string tp, string sl, string code)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var culture = System.Globalization.CultureInfo.InvariantCulture;

        var result = kit.PlaceList(Bracket(Market(side, 0.1m), decimal.Parse(tp, culture), decimal.Parse(sl, culture)));

        AssertRejected(result, RejectionKind.Invalid, code);
        Assert.Empty(result.Events);
    }

    [Fact]
    public void PlaceOrderList_BracketEntryWithoutMargin_RejectedInsufficientMarginNothingAccepted()
    {
        var kit = new GrainTestKit(manual: 100m);
        kit.Price(50000m);
        var before = StateOf(kit.Shard, withEventCount: false);

        var result = kit.PlaceList(Bracket(Market(Buy, 0.1m), takeProfit: 51000m, stopLoss: 49000m));

        AssertRejected(result, RejectionKind.Business, "insufficient_margin");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
    }

    // ---- straddle ----

    [Fact]
    public void OnPrices_StraddleBreaksUp_BuySideGetsBracketAtDistancesAndSellSideIsCancelled()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Straddle(0.1m, above: 50500m, below: 49500m, takeProfit: 0.02m, stopLoss: 0.01m));
        var m = Members(kit, list);
        Assert.Equal(6, m.Length);
        var (buy, sell, buyTp, buySl, sellTp, sellSl) = (m[0], m[1], m[2], m[3], m[4], m[5]);
        Assert.Equal((OrderType.Stop, OrderSide.Buy, (decimal?)50500m), (kit.OrderOf(buy).Type, kit.OrderOf(buy).Side, kit.OrderOf(buy).TriggerPrice));
        Assert.Equal((OrderType.Stop, OrderSide.Sell, (decimal?)49500m), (kit.OrderOf(sell).Type, kit.OrderOf(sell).Side, kit.OrderOf(sell).TriggerPrice));

        Assert.Empty(kit.Price(50499.9m));
        var events = kit.Price(50512.3m);

        Assert.Equal(50512.3m, Single<OrderTriggered>(events).Price);
        Assert.Equal((buy, 0.1m, 50512.3m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Quantity, Single<OrderFilled>(events).Price));
        Assert.Equal(
            [(sell, "oco_sibling_triggered"), (sellTp, "primary_not_filled"), (sellSl, "primary_not_filled")],
            events.OfType<OrderCancelled>().Select(c => (c.Order, c.Reason)));
        // 50512.3 * 1.02 = 51522.546 -> 51522.5; 50512.3 * 0.99 = 50007.177 -> 50007.2
        Assert.Equal([(buyTp, 0.1m, (decimal?)51522.5m), (buySl, 0.1m, (decimal?)50007.2m)],
            events.OfType<OrderActivated>().Select(a => (a.Order, a.Quantity, a.TriggerPrice)));
        var tp = kit.OrderOf(buyTp);
        var sl = kit.OrderOf(buySl);
        Assert.Equal((OrderType.TakeProfit, OrderSide.Sell, true, (long?)buySl, OrderStatus.Untriggered), (tp.Type, tp.Side, tp.Spec.ReduceOnly, tp.Spec.OcoSibling, tp.Status));
        Assert.Equal((OrderType.Stop, OrderSide.Sell, true, (long?)buyTp, OrderStatus.Untriggered), (sl.Type, sl.Side, sl.Spec.ReduceOnly, sl.Spec.OcoSibling, sl.Status));
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);

        Assert.Empty(kit.Price(50007.3m));
        var stopOut = kit.Price(50007.2m);

        Assert.Equal((buyTp, "oco_sibling_triggered"), (Single<OrderCancelled>(stopOut).Order, Single<OrderCancelled>(stopOut).Reason));
        var exit = Single<OrderFilled>(stopOut);
        Assert.Equal((buySl, 0.1m, 50007.2m, -50.51m), (exit.Order, exit.Quantity, exit.Price, exit.RealizedPnl));
        Assert.Null(kit.PositionOf());
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Fact]
    public void OnPrices_StraddleBreaksDown_SellSideGetsBracketRoundedToTick()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Straddle(0.1m, above: 50500m, below: 49500m, takeProfit: 0.02m, stopLoss: 0.01m));
        var m = Members(kit, list);

        var events = kit.Price(49487.7m);

        Assert.Equal((m[1], 49487.7m), (Single<OrderFilled>(events).Order, Single<OrderFilled>(events).Price));
        Assert.Equal([(m[0], "oco_sibling_triggered"), (m[2], "primary_not_filled"), (m[3], "primary_not_filled")],
            events.OfType<OrderCancelled>().Select(c => (c.Order, c.Reason)));
        // 49487.7 * 0.98 = 48497.946 -> 48497.9; 49487.7 * 1.01 = 49982.577 -> 49982.6
        Assert.Equal([(m[4], 0.1m, (decimal?)48497.9m), (m[5], 0.1m, (decimal?)49982.6m)],
            events.OfType<OrderActivated>().Select(a => (a.Order, a.Quantity, a.TriggerPrice)));
        Assert.Equal((OrderSide.Buy, OrderSide.Buy), (kit.OrderOf(m[4]).Side, kit.OrderOf(m[5]).Side));

        var exit = Single<OrderFilled>(kit.Price(48497.9m));
        Assert.Equal((m[4], 0.1m, 48497.9m, 98.98m), (exit.Order, exit.Quantity, exit.Price, exit.RealizedPnl));
        Assert.Equal((OrderStatus.Cancelled, "oco_sibling_triggered"), (kit.OrderOf(m[5]).Status, kit.OrderOf(m[5]).Reason));
        Assert.Null(kit.PositionOf());
    }

    [Fact]
    public void OnPrices_StraddleWithoutExits_FiresOneSideOnly()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var list = kit.PlaceListOk(Straddle(0.1m, above: 50500m, below: 49500m, takeProfit: null, stopLoss: null));
        var m = Members(kit, list);
        Assert.Equal(2, m.Length);

        kit.Price(50500m);
        kit.Price(49000m);

        Assert.Equal((OrderStatus.Filled, OrderStatus.Cancelled), (kit.OrderOf(m[0]).Status, kit.OrderOf(m[1]).Status));
        Assert.Equal(0.1m, kit.PositionOf()!.Quantity);
    }

    [Theory]
    [InlineData("above not above below", "invalid_trigger_price", RejectionKind.Invalid)]
    [InlineData("distance of one", "invalid_distance", RejectionKind.Invalid)]
    [InlineData("above already reached", "would_immediately_trigger", RejectionKind.Business)]
    [InlineData("off tick", "invalid_tick_size", RejectionKind.Invalid)]
    public void PlaceOrderList_InvalidStraddle_Rejected(string name, string code, RejectionKind kind)
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var request = name switch
        {
            "above not above below" => Straddle(0.1m, 49500m, 49500m, null, null),
            "distance of one" => Straddle(0.1m, 50500m, 49500m, 1m, 0.01m),
            "above already reached" => Straddle(0.1m, 50000m, 49500m, null, null),
            _ => Straddle(0.1m, 50500.05m, 49500m, null, null),
        };

        var result = kit.PlaceList(request);

        AssertRejected(result, kind, code);
        Assert.Empty(kit.AccountState.LiveOrders);
        Assert.Empty(kit.AccountState.Lists);
    }

    // ---- replay ----

    [Fact]
    public void Apply_ReplayOfListsThroughTheirLifecycle_RebuildsSameState()
    {
        var kit = new GrainTestKit();
        kit.Price(50000m);
        var second = kit.CreateBucket("news", 20_000m);
        kit.PlaceListOk(Straddle(0.1m, above: 50500m, below: 49500m, takeProfit: 0.02m, stopLoss: 0.01m) with { Bucket = second });
        kit.PlaceListOk(Bracket(Limit(Buy, 0.2m, 49900m), takeProfit: 51000m, stopLoss: 49000m));
        kit.PlaceListOk(Oco(TakeProfit(Sell, 0.1m, 50800m, TriggerSource.Mark), Stop(Sell, 0.1m, 49200m)) with { Bucket = second });
        kit.PlaceListOk(Oto(Limit(Buy, 0.1m, 49950m), TrailingByRate(Sell, 0.1m, 0.01m)));

        kit.Price(49900m);
        kit.AssertReplayMatches();
        kit.Price(50512.3m);
        kit.Prices(Btc, last: null, index: 50600m, mark: 50800m);
        kit.AssertReplayMatches();
        kit.Price(50007.2m);
        kit.Price(51000m);

        kit.AssertReplayMatches();
    }
}
