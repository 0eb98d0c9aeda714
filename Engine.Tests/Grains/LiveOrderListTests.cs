using Engine.Grains;
using Engine.Grains.Accounts;
using Engine.Grains.Orders;

namespace Engine.Tests.Grains;

public sealed class LiveOrderListTests
{
    private static Order NewOrder(long number) => new(new AccountId("a1"),
        new OrderSpec { Number = number, Bucket = new BucketId("a1-b1"), Symbol = "BTC-USDT", Side = OrderSide.Buy, Type = OrderType.Stop },
        OrderStatus.Untriggered, OrderPhase.Waiting, GrainTestKit.T0);

    [Fact]
    public void Remove_FirstMiddleAndLast_KeepsTheOthersInOrder()
    {
        var list = new LiveOrderList();
        var orders = Enumerable.Range(1, 5).Select(n => NewOrder(n)).ToArray();
        foreach (var o in orders) list.Add(o);

        list.Remove(orders[2]);
        Assert.Equal(new long[] { 1, 2, 4, 5 }, list);
        list.Remove(orders[0]);
        list.Remove(orders[4]);
        Assert.Equal(new long[] { 2, 4 }, list);
        Assert.Equal(2, list.Count);
    }

    [Fact]
    public void AddAndRemove_Twice_AreNoOps()
    {
        var list = new LiveOrderList();
        var (a, b) = (NewOrder(1), NewOrder(2));
        list.Add(a);
        list.Add(a);
        list.Add(b);
        Assert.Equal(new long[] { 1, 2 }, list);

        list.Remove(a);
        list.Remove(a);
        Assert.Equal(new long[] { 2 }, list);
        list.Remove(b);
        Assert.Empty(list);
        Assert.True(list.Count == 0);
    }
}
