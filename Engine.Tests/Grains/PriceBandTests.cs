using Engine.Grains;
using Engine.Grains.Common;
using Engine.Grains.Orders;
using Engine.Grains.Risk;
using static Engine.Tests.Grains.GrainTestKit;

namespace Engine.Tests.Grains;

/// <summary>The price band: a buy limit no higher, a sell limit no lower, than a fraction from its reference.</summary>
public sealed class PriceBandTests
{
    private const OrderSide Buy = OrderSide.Buy;
    private const OrderSide Sell = OrderSide.Sell;

    private static GrainTestKit Kit(PriceBandPolicy policy) =>
        new(options: new ShardOptions { PriceBand = 0.05m, PriceBandPolicy = policy });

    [Theory]
    [InlineData(OrderSide.Buy, "63000.1")]
    [InlineData(OrderSide.Sell, "56999.9")]
    public void PlaceOrder_LimitBeyondTheBandWithReject_RefusedAndNothingChanges(OrderSide side, string price)
    {
        var kit = Kit(PriceBandPolicy.Reject);
        kit.Price(60_000m);
        var before = StateOf(kit.Shard, withEventCount: false);

        var result = kit.Place(Limit(side, 0.01m, decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

        AssertRejected(result, RejectionKind.Business, "price_out_of_band");
        Assert.Equal(["CommandRejected"], Kinds(result.Events));
        Assert.Equal(before, StateOf(kit.Shard, withEventCount: false));
        Assert.Empty(kit.AccountState.LiveOrders);
    }

    [Theory]
    [InlineData(OrderSide.Buy, "63000")]
    [InlineData(OrderSide.Sell, "57000")]
    [InlineData(OrderSide.Buy, "30000")]
    [InlineData(OrderSide.Sell, "90000")]
    public void PlaceOrder_LimitAtTheEdgeOrOnTheHarmlessSide_Accepted(OrderSide side, string price)
    {
        var kit = Kit(PriceBandPolicy.Reject);
        kit.Price(60_000m);

        var n = kit.PlaceOk(Limit(side, 0.01m, decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(decimal.Parse(price, System.Globalization.CultureInfo.InvariantCulture), kit.OrderOf(n).Price);
    }

    [Fact]
    public void PlaceOrder_BuyLimitAboveTheBandWithClamp_AcceptedAtTheEdge()
    {
        var kit = Kit(PriceBandPolicy.Clamp);
        kit.Price(60_000m);

        var n = kit.PlaceOk(Limit(Buy, 0.01m, 70_000m) with { TimeInForce = TimeInForce.Gtc });

        Assert.Equal(63_000m, kit.OrderOf(n).Price);
        Assert.Equal(63_000m, kit.OrderOf(n).Spec.Price);
        kit.AssertReplayMatches();
    }

    [Fact]
    public void PlaceOrder_StopLimitFarFromItsTrigger_BandedAroundTheTrigger()
    {
        var kit = Kit(PriceBandPolicy.Reject);
        kit.Price(60_000m);

        // Far from today's index but close to its trigger: fine.
        kit.PlaceOk(StopLimit(Sell, 0.01m, 40_000m, 39_000m));
        var refused = kit.Place(StopLimit(Sell, 0.01m, 40_000m, 37_000m));

        AssertRejected(refused, RejectionKind.Business, "price_out_of_band");
    }

    [Fact]
    public void AmendOrder_PriceBeyondTheBand_RefusedWithRejectClampedWithClamp()
    {
        var reject = Kit(PriceBandPolicy.Reject);
        reject.Price(60_000m);
        var r = reject.PlaceOk(Limit(Sell, 0.01m, 61_000m));
        AssertRejected(reject.Amend(r, price: 50_000m), RejectionKind.Business, "price_out_of_band");
        Assert.Equal(61_000m, reject.OrderOf(r).Price);

        var clamp = Kit(PriceBandPolicy.Clamp);
        clamp.Price(60_000m);
        var c = clamp.PlaceOk(Limit(Sell, 0.01m, 61_000m));
        Assert.True(clamp.Amend(c, price: 50_000m).Succeeded);
        Assert.Equal(57_000m, clamp.OrderOf(c).Price);
        clamp.AssertReplayMatches();
    }

    [Fact]
    public void PlaceOrderList_MemberBeyondTheBand_RefusesTheWholeList()
    {
        var kit = Kit(PriceBandPolicy.Reject);
        kit.Price(60_000m);

        var result = kit.PlaceList(new OrderListRequest
        {
            Type = OrderListType.Oco,
            Legs = [Limit(Buy, 0.01m, 59_000m), StopLimit(Buy, 0.01m, 61_000m, 65_000m)],
        });

        AssertRejected(result, RejectionKind.Business, "price_out_of_band");
        Assert.Empty(kit.AccountState.LiveOrders);
    }
}
