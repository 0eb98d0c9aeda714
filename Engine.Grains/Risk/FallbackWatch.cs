namespace Engine.Grains.Risk;

/// <summary>
/// One symbol's triggered stop-limits waiting for the index to run past their worst price: sells
/// fire when the index is at or below their level, buys when it is at or above. A price that fires
/// nothing costs two comparisons; the fired come out by order number, whatever the history of the
/// set (a restored shard decides in the same order as the live one).
/// </summary>
internal sealed class FallbackWatch
{
    private readonly SortedSet<(decimal Level, long Order)> _sells = [];
    private readonly SortedSet<(decimal Level, long Order)> _buys = [];

    public int Count => _sells.Count + _buys.Count;

    public void Add(long order, bool sell, decimal level) => (sell ? _sells : _buys).Add((level, order));

    public void Remove(long order, bool sell, decimal level) => (sell ? _sells : _buys).Remove((level, order));

    /// <summary>The orders whose level <paramref name="price"/> has reached, by order number; null when none.</summary>
    public List<long>? Reached(decimal price)
    {
        List<long>? fired = null;
        if (_sells.Count != 0 && _sells.Max.Level >= price)
            foreach (var (level, order) in _sells.Reverse())
            {
                if (level < price) break;
                (fired ??= []).Add(order);
            }

        if (_buys.Count != 0 && _buys.Min.Level <= price)
            foreach (var (level, order) in _buys)
            {
                if (level > price) break;
                (fired ??= []).Add(order);
            }

        fired?.Sort();
        return fired;
    }

    /// <summary>Every watched order with its level, for fingerprints.</summary>
    public IEnumerable<(long Order, bool Sell, decimal Level)> Entries =>
        _sells.Select(e => (e.Order, true, e.Level)).Concat(_buys.Select(e => (e.Order, false, e.Level))).OrderBy(e => e.Item1);
}
