using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>Wick protection: a trigger fires only if it still holds when its confirmation ends.</summary>
public sealed class TriggerConfirmationTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;
    private static readonly TimeSpan TwoSeconds = TimeSpan.FromSeconds(2);

    [Fact]
    public void AdvanceTime_OneTickWick_ConfirmationFailsAndTheStopWaitsAgain()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 59_000m) with { TriggerConfirmation = TwoSeconds });

        var wick = kit.Price(58_500m);

        var started = Single<TriggerConfirmationStarted>(wick);
        Assert.Equal((stop, 58_500m, kit.Now + TwoSeconds), (started.Order, started.Price, started.Until));
        Assert.Equal((OrderStatus.Untriggered, OrderPhase.Confirming), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Phase));
        Assert.Equal(kit.Now + TwoSeconds, kit.Shard.ConfirmingUntil(kit.OrderOf(stop)));
        kit.Advance(TimeSpan.FromMilliseconds(250));
        kit.Price(59_600m);

        var end = kit.Advance(TimeSpan.FromMilliseconds(1_750));

        var failed = Single<TriggerConfirmationFailed>(end);
        Assert.Equal((stop, 59_600m), (failed.Order, failed.Price));
        Assert.DoesNotContain(kit.Journal, e => e is OrderTriggered);
        Assert.Equal((OrderStatus.Untriggered, OrderPhase.Waiting), (kit.OrderOf(stop).Status, kit.OrderOf(stop).Phase));
        Assert.Null(kit.PositionOf());
        // Back in the book: a later real move starts a new confirmation.
        Assert.Single(kit.Price(58_900m).OfType<TriggerConfirmationStarted>());
        kit.AssertReplayMatches();
    }

    [Fact]
    public void AdvanceTime_SustainedMove_FiresAtThePriceWhenTheConfirmationEnds()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 59_000m) with { TriggerConfirmation = TwoSeconds });
        kit.Price(58_800m);
        kit.Advance(TimeSpan.FromSeconds(1));
        kit.Price(58_600m);

        Assert.Empty(kit.Advance(TimeSpan.FromMilliseconds(999)));
        var end = kit.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(58_600m, Single<OrderTriggered>(end).Price);
        Assert.Equal((OrderStatus.Filled, 58_600m), (kit.OrderOf(stop).Status, kit.OrderOf(stop).AverageFillPrice));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void Confirming_OcoSibling_StaysUntilTheLegReallyFires()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        kit.PlaceOk(Market(Buy, 0.1m));
        var list = kit.PlaceListOk(new OrderListRequest
        {
            Type = OrderListType.Oco,
            Legs =
            [
                TakeProfit(Sell, 0.1m, 62_000m) with { ReduceOnly = true },
                Stop(Sell, 0.1m, 59_000m) with { ReduceOnly = true, TriggerConfirmation = TwoSeconds },
            ],
        });
        var (takeProfit, stop) = (kit.AccountState.Lists[list.Value].Orders[0], kit.AccountState.Lists[list.Value].Orders[1]);

        kit.Price(58_900m);
        Assert.Equal(OrderPhase.Confirming, kit.OrderOf(stop).Phase);
        Assert.Equal(OrderStatus.Untriggered, kit.OrderOf(takeProfit).Status);

        kit.Advance(TwoSeconds);

        Assert.Equal(OrderStatus.Filled, kit.OrderOf(stop).Status);
        Assert.Equal((OrderStatus.Cancelled, OrderReasons.OcoSiblingTriggered), (kit.OrderOf(takeProfit).Status, kit.OrderOf(takeProfit).Reason));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void CancelOrder_WhileConfirming_EndsTheConfirmation()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Buy, 0.1m, 61_000m) with { TriggerConfirmation = TwoSeconds });
        kit.Price(61_500m);

        kit.Cancel(stop);
        var later = kit.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(later);
        Assert.Equal(OrderStatus.Cancelled, kit.OrderOf(stop).Status);
        Assert.Null(kit.Shard.ConfirmingUntil(kit.OrderOf(stop)));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void AmendOrder_QuantityWhileConfirming_KeepsTheConfirmationAndFiresTheNewQuantity()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(StopLimit(Sell, 0.1m, 59_000m, 58_500m) with { TriggerConfirmation = TwoSeconds });
        kit.Price(58_800m);
        var until = kit.Shard.ConfirmingUntil(kit.OrderOf(stop));

        Assert.True(kit.Amend(stop, quantity: 0.05m, price: 58_600m).Succeeded);
        AssertRejected(kit.Amend(stop, triggerPrice: 58_900m), RejectionKind.Invalid, "invalid_trigger_price");

        Assert.Equal((OrderPhase.Confirming, until), (kit.OrderOf(stop).Phase, kit.Shard.ConfirmingUntil(kit.OrderOf(stop))));
        kit.AssertReplayMatches();
        Assert.Equal(kit.Shard.Fingerprint(), kit.Restored().Fingerprint());
        kit.Advance(TwoSeconds);
        Assert.Equal((OrderStatus.Filled, 0.05m, 58_800m), (kit.OrderOf(stop).Status, kit.OrderOf(stop).FilledQuantity, kit.OrderOf(stop).AverageFillPrice));
        kit.AssertReplayMatches();
    }

    [Fact]
    public void Restore_PendingConfirmation_EndsAsInTheLiveShard()
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var stop = kit.PlaceOk(Stop(Sell, 0.1m, 59_000m) with { TriggerConfirmation = TwoSeconds });
        kit.Price(58_000m);

        var restored = kit.Restored();
        var replayed = kit.Replay();

        Assert.Equal(kit.Shard.Fingerprint(), restored.Fingerprint());
        Assert.Equal(kit.Shard.Fingerprint(), replayed.Fingerprint());
        replayed.PrimeQuote(Btc, kit.Shard.QuoteOf(Btc));
        foreach (var shard in new[] { restored, replayed })
        {
            var output = new List<EngineEvent>();
            shard.AdvanceTime(kit.Now + TwoSeconds, output);
            Assert.Equal(58_000m, Single<OrderTriggered>(output).Price);
            Assert.Equal(OrderStatus.Filled, shard.Orders[stop].Status);
        }
    }

    [Theory]
    [InlineData(OrderType.Market, 2.0)]
    [InlineData(OrderType.Limit, 2.0)]
    [InlineData(OrderType.TrailingStop, 2.0)]
    [InlineData(OrderType.Stop, 0.0)]
    [InlineData(OrderType.Stop, 3601.0)]
    public void PlaceOrder_TriggerConfirmationOnWrongTypeOrOutOfRange_InvalidAndNothingChanges(OrderType type, double seconds)
    {
        var kit = new GrainTestKit();
        kit.Price(60_000m);
        var before = kit.Shard.Fingerprint();
        var request = type switch
        {
            OrderType.Market => Market(Buy, 0.1m),
            OrderType.Limit => Limit(Buy, 0.1m, 59_000m),
            OrderType.TrailingStop => TrailingByRate(Sell, 0.1m, 0.01m),
            _ => Stop(Buy, 0.1m, 61_000m),
        };

        var result = kit.Place(request with { TriggerConfirmation = TimeSpan.FromSeconds(seconds) });

        AssertRejected(result, RejectionKind.Invalid, "invalid_trigger_confirmation");
        Assert.Equal(before, kit.Shard.Fingerprint());
    }
}
