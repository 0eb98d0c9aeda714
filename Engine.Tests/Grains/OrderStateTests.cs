using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Tests.Grains;

/// <summary>
/// An order keeps what changed about it in a small fill state until something besides fills changes; then
/// the full progress takes over. Whichever holds them, the values read the same.
/// </summary>
public sealed class OrderStateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    private static OrderSpec Spec(OrderType type, decimal? trigger = null, decimal? price = null) => new()
    {
        Number = 7,
        Bucket = BucketId.For(new AccountId("a"), 1),
        Symbol = "BTC-USDT",
        Side = OrderSide.Buy,
        Type = type,
        Quantity = 2m,
        TriggerPrice = trigger,
        Price = price,
    };

    [Fact]
    public void AddFill_MarketOrder_ReadsFillsAndKeepsSpecValues()
    {
        var order = new Order(new AccountId("a"), Spec(OrderType.Market), OrderStatus.Open, OrderPhase.Executing, T0);

        var done = order.AddFill(2m, 50_000m, T0.AddSeconds(1));
        order.Finish(OrderStatus.Filled, null, T0.AddSeconds(1));

        Assert.True(done);
        Assert.Equal(2m, order.FilledQuantity);
        Assert.Equal(50_000m, order.AverageFillPrice);
        Assert.Equal(2m, order.Quantity);
        Assert.Null(order.Price);
        Assert.Null(order.TriggeredAt);
        Assert.Null(order.Reason);
        Assert.Equal(OrderStatus.Filled, order.Status);
    }

    [Fact]
    public void AddFill_OneFillEventThenMore_ReadsTheSameBitsAsAddingTheValues()
    {
        var account = new AccountId("a");
        var spec = Spec(OrderType.Limit, price: 50_000.50m) with { Quantity = 3.000m };
        var fromEvents = new Order(account, spec, OrderStatus.Open, OrderPhase.Resting, T0);
        var fromValues = new Order(account, spec, OrderStatus.Open, OrderPhase.Resting, T0);
        var first = new OrderFilled(7, 1, 1.10m, 50_000.50m, 1m, 0m, Liquidity.Maker) { At = T0.AddSeconds(1), Account = account };
        var second = new OrderFilled(7, 2, 0.7m, 49_999.3m, 1m, 0m, Liquidity.Maker) { At = T0.AddSeconds(2), Account = account };

        Assert.False(fromEvents.AddFill(first));
        fromValues.AddFill(first.Quantity, first.Price, first.At);
        Assert.Equal(decimal.GetBits(fromValues.FilledQuantity), decimal.GetBits(fromEvents.FilledQuantity));
        Assert.Equal(decimal.GetBits(fromValues.AverageFillPrice), decimal.GetBits(fromEvents.AverageFillPrice));
        Assert.Equal(fromValues.UpdatedAt, fromEvents.UpdatedAt);

        fromEvents.AddFill(second);
        fromValues.AddFill(second.Quantity, second.Price, second.At);
        Assert.Equal(decimal.GetBits(fromValues.FilledQuantity), decimal.GetBits(fromEvents.FilledQuantity));
        Assert.Equal(decimal.GetBits(fromValues.AverageFillPrice), decimal.GetBits(fromEvents.AverageFillPrice));
        Assert.Equal(1.80m, fromEvents.FilledQuantity);
        Assert.Null(fromEvents.Reason);
    }

    [Fact]
    public void Amend_AfterAFillAndAReason_KeepsThemInTheFullProgress()
    {
        var order = new Order(new AccountId("a"), Spec(OrderType.StopLimit, trigger: 51_000m, price: 51_100m), OrderStatus.Untriggered, OrderPhase.Waiting, T0);
        order.AddFill(new OrderFilled(7, 1, 0.5m, 51_050m, 0m, 0m, Liquidity.Taker) { At = T0.AddSeconds(1), Account = new AccountId("a") });
        order.Reason = "why";

        order.Amend(3m, 51_200m, 51_150m, null, null, T0.AddSeconds(2));
        order.Trigger(51_150m, T0.AddSeconds(3));

        Assert.Equal(0.5m, order.FilledQuantity);
        Assert.Equal(51_050m, order.AverageFillPrice);
        Assert.Equal("why", order.Reason);
        Assert.Equal(3m, order.Quantity);
        Assert.Equal(51_200m, order.Price);
        Assert.Equal(51_150m, order.TriggerPrice);
        Assert.Equal(51_150m, order.TriggeredPrice);
        Assert.Equal(T0.AddSeconds(3), order.TriggeredAt);
    }

    [Fact]
    public void FillLog_OrderFillAndRecord_ReadAsFillsOldestFirstWithinTheBound()
    {
        var log = new FillLog();
        var spec = Spec(OrderType.Market) with { Side = OrderSide.Sell };
        var liquidation = new Fill(1, null, spec.Bucket, "ETH-USDT", OrderSide.Buy, 1m, 3_000m, 0m, -30m, Liquidity.Liquidation, T0);
        log.Add(liquidation, bound: 2);
        log.Add(new OrderFilled(7, 2, 2m, 50_000m, 5m, 12m, Liquidity.Taker) { At = T0.AddSeconds(1), Account = new AccountId("a") }, spec, bound: 2);
        var captured = log.Capture();
        log.Add(new OrderFilled(7, 3, 1m, 49_000m, 2m, 0m, Liquidity.Maker) { At = T0.AddSeconds(2), Account = new AccountId("a") }, spec, bound: 2);

        Assert.Equal(
            [
                new Fill(2, 7, spec.Bucket, "BTC-USDT", OrderSide.Sell, 2m, 50_000m, 5m, 12m, Liquidity.Taker, T0.AddSeconds(1)),
                new Fill(3, 7, spec.Bucket, "BTC-USDT", OrderSide.Sell, 1m, 49_000m, 2m, 0m, Liquidity.Maker, T0.AddSeconds(2)),
            ],
            log.ToArray());
        // A snapshot's capture is the log as it was: later fills are not in it.
        Assert.Equal([liquidation, new Fill(2, 7, spec.Bucket, "BTC-USDT", OrderSide.Sell, 2m, 50_000m, 5m, 12m, Liquidity.Taker, T0.AddSeconds(1))], captured);
        Assert.Equal(2, captured.Count);
        Assert.Equal(liquidation, captured[0]);
    }
}
