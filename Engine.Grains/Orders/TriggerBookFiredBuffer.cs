namespace Engine.Grains.Orders;

/// <summary>
/// The trailing entries of one side at the highest trigger reached, when decimal rounding may have
/// given entries with different callbacks that trigger: such entries can sit anywhere in one heap, not
/// in insertion order, so all of them are popped and then handed out in insertion order.
/// </summary>
internal sealed class TrailingFiredBuffer
{
    // Below this an insertion sort beats Array.Sort and allocates nothing.
    private const int InsertionSortLimit = 24;

    private static readonly FiredOrder Order = new();

    private Fired[] _items = new Fired[8];
    private int _count;
    private int _next;

    public void Add(decimal trigger, long seq, long key)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[_count++] = new Fired(trigger, seq, key);
    }

    /// <summary>Puts what was added since the buffer was last empty in firing order.</summary>
    public void Sort()
    {
        var items = _items;
        var count = _count;
        if (count <= InsertionSortLimit)
        {
            for (var i = 1; i < count; i++)
            {
                var item = items[i];
                var j = i - 1;
                while (j >= 0 && Order.Compare(item, items[j]) < 0)
                {
                    items[j + 1] = items[j];
                    j--;
                }

                items[j + 1] = item;
            }
        }
        else
        {
            Array.Sort(items, 0, count, Order);
        }
    }

    /// <summary>The next key in firing order; false once all were handed out.</summary>
    /// <param name="stillLive">Trailing entries left in the book: no later batch can be larger.</param>
    public bool TryTake(out long key, int stillLive)
    {
        if (_next == _count)
        {
            key = 0;
            return false;
        }

        key = _items[_next++].Key;
        if (_next == _count)
        {
            _next = 0;
            _count = 0;

            // Give back what a burst grew only once the book itself has shrunk, so alternating large and
            // small bursts do not reallocate every time.
            if (_items.Length > 1024 && _items.Length > 4 * stillLive)
            {
                _items = new Fired[Math.Max(8, 2 * stillLive)];
            }
        }

        return true;
    }

    /// <summary>Forgets what was not handed out (an evaluation ended early).</summary>
    public void Clear()
    {
        _next = 0;
        _count = 0;
    }

    private readonly record struct Fired(decimal Trigger, long Seq, long Key);

    private sealed class FiredOrder : IComparer<Fired>
    {
        public int Compare(Fired a, Fired b)
        {
            var c = decimal.Compare(b.Trigger, a.Trigger);
            return c != 0 ? c : a.Seq.CompareTo(b.Seq);
        }
    }
}
