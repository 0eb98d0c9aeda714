using Engine.Grains.Orders;

namespace Engine.Tests.Grains;

/// <summary>
/// Books sharing one entry store, as a shard's books do (the store keeps an order's entry in the
/// order): a key belongs to one book at a time, and no book mistakes another's entry for its own.
/// </summary>
public sealed class TriggerBookStoreTests
{
    private const TriggerDirection Fall = TriggerDirection.Fall;

    private static List<long> Eval(TriggerBook book, decimal price)
    {
        var fired = new List<long>();
        book.Evaluate(price, fired);
        return fired;
    }

    [Fact]
    public void SharedStore_KeyInOneBook_IsNotInTheOther()
    {
        var store = new DictionaryTriggerEntryStore();
        var a = new TriggerBook(store);
        var b = new TriggerBook(store);
        a.AddLevel(1, Fall, 100m);
        a.AddTrailing(2, Fall, 0.01m, null, 100m);

        Assert.False(b.Contains(1));
        Assert.False(b.Remove(1));
        Assert.False(b.Remove(2));
        Assert.Null(b.TrailingExtreme(2));
        Assert.Equal(0, b.Count);
        Assert.Throws<ArgumentException>(() => b.AddLevel(1, Fall, 90m));
        Assert.Throws<ArgumentException>(() => b.AddTrailing(2, Fall, 0.01m, null, 90m));

        Assert.True(a.Contains(1));
        Assert.Equal(100m, a.TrailingExtreme(2));
        Assert.Equal(2, a.Count);
        Assert.Equal([1L, 2L], Eval(a, 99m));
    }

    [Fact]
    public void SharedStore_KeyMovedToAnotherBook_ItsOldNodeStaysDead()
    {
        var store = new DictionaryTriggerEntryStore();
        var a = new TriggerBook(store);
        var b = new TriggerBook(store);
        a.AddLevel(2, Fall, 101m);
        a.AddLevel(1, Fall, 100m); // below the top: removing it leaves a dead node in a's heap
        b.AddLevel(9, Fall, 50m);

        Assert.True(a.Remove(1));
        b.AddLevel(1, Fall, 100m);

        Assert.Equal([2L], Eval(a, 99m));
        Assert.Equal([1L], Eval(b, 99m));
        Assert.Equal(0, a.Count);
        Assert.Equal(1, b.Count);
    }

    [Fact]
    public void SharedStore_KeyRemovedFromOneBook_CanJoinAnother()
    {
        var store = new DictionaryTriggerEntryStore();
        var a = new TriggerBook(store);
        var b = new TriggerBook(store);
        a.AddTrailing(1, Fall, 0.10m, null, 100m);

        Assert.True(a.Remove(1));
        b.AddTrailing(1, Fall, 0.05m, null, 100m);

        Assert.Equal(0, a.Count);
        Assert.Null(a.TrailingExtreme(1));
        Assert.Equal(100m, b.TrailingExtreme(1));
        Assert.Equal([1L], Eval(b, 95m));
    }
}
