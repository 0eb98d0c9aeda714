namespace Engine.Grains.Orders;

/// <summary>
/// Trailing entries fired by one side at one price, gathered group by group and then put in firing
/// order: effective trigger descending in the side's "fires when x &lt;= trigger" form, then
/// insertion order. Groups fire in trigger order only approximately (a group's entries span several
/// triggers), hence the sort.
/// </summary>
internal sealed class TrailingFiredBuffer
{
    // Below this an insertion sort beats Array.Sort and allocates nothing.
    private const int InsertionSortLimit = 24;

    private static readonly FiredOrder Order = new();

    private Fired[] _items = new Fired[8];
    private int _count;

    public void Add(decimal trigger, long seq, long key)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        _items[_count++] = new Fired(trigger, seq, key);
    }

    /// <param name="stillLive">Trailing entries left in the book: no later drain can be larger.</param>
    public void DrainSorted(List<long> fired, int stillLive)
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

        for (var i = 0; i < count; i++)
        {
            fired.Add(items[i].Key);
        }

        _count = 0;

        // Give back what a burst grew only once the book itself has shrunk, so alternating large and
        // small bursts do not reallocate every time.
        if (items.Length > 1024 && items.Length > 4 * stillLive)
        {
            _items = new Fired[Math.Max(8, 2 * stillLive)];
        }
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
