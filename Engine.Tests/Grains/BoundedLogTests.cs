using Engine.Grains.Common;

namespace Engine.Tests.Grains;

public sealed class BoundedLogTests
{
    [Fact]
    public void Add_BelowBound_KeepsEverythingOldestFirst()
    {
        var log = new BoundedLog<int>();
        for (var i = 1; i <= 7; i++) log.Add(i, bound: 10);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7], log);
        Assert.Equal(7, log.Count);
    }

    [Fact]
    public void Add_PastBound_DropsTheOldest()
    {
        var log = new BoundedLog<int>();
        for (var i = 1; i <= 25; i++) log.Add(i, bound: 10);

        Assert.Equal(Enumerable.Range(16, 10), log);
    }

    [Fact]
    public void Add_BoundRaisedLater_GrowsAndKeepsOrder()
    {
        var log = new BoundedLog<int>();
        for (var i = 1; i <= 6; i++) log.Add(i, bound: 4);
        for (var i = 7; i <= 9; i++) log.Add(i, bound: 8);

        Assert.Equal([3, 4, 5, 6, 7, 8, 9], log);
    }

    [Fact]
    public void Newest_AfterWrappingPastTheBound_IsTheLastAdded()
    {
        var log = new BoundedLog<int>();
        Assert.Throws<InvalidOperationException>(() => log.Newest);
        for (var i = 1; i <= 13; i++) log.Add(i, bound: 5);

        Assert.Equal(13, log.Newest);
        Assert.Equal([9, 10, 11, 12, 13], log.ToArray());
    }
}
