using System.Collections;
using Engine.Grains.Orders;

namespace Engine.Grains.Accounts;

/// <summary>
/// An account's live orders, linked through the orders themselves: adding and removing are O(1) and
/// cost no entry of their own (a hash set entry cost 39 bytes per resting order). Enumerates the
/// order numbers in the order the orders went live.
/// </summary>
public sealed class LiveOrderList : IReadOnlyCollection<long>
{
    private Order? _first;
    private Order? _last;

    public int Count { get; private set; }

    internal void Add(Order order)
    {
        if (order.LivePrevious is not null || ReferenceEquals(_first, order)) return;
        order.LivePrevious = _last;
        order.LiveNext = null;
        if (_last is null) _first = order;
        else _last.LiveNext = order;
        _last = order;
        Count++;
    }

    internal void Remove(Order order)
    {
        if (order.LivePrevious is null && !ReferenceEquals(_first, order)) return;
        if (order.LivePrevious is null) _first = order.LiveNext;
        else order.LivePrevious.LiveNext = order.LiveNext;
        if (order.LiveNext is null) _last = order.LivePrevious;
        else order.LiveNext.LivePrevious = order.LivePrevious;
        order.LivePrevious = null;
        order.LiveNext = null;
        Count--;
    }

    public IEnumerator<long> GetEnumerator()
    {
        for (var o = _first; o is not null; o = o.LiveNext) yield return o.Number;
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
