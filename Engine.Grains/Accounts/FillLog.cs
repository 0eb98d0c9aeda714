using System.Collections;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Orders;

namespace Engine.Grains.Accounts;

/// <summary>
/// An account's recent fills, oldest first, up to a bound. An order's fill is kept as its
/// <see cref="OrderFilled"/> event (which the account's event history holds anyway) with the order's spec
/// for its bucket, symbol and side: a fill costs a slot, not a copy of the event. The <see cref="Fill"/>
/// records are made when the log is read. Liquidations and fills restored from a snapshot are kept as records.
/// </summary>
public sealed class FillLog : IReadOnlyCollection<Fill>
{
    private readonly BoundedLog<Entry> _entries = new();

    public int Count => _entries.Count;

    public void Add(OrderFilled fill, OrderSpec order, int bound) => _entries.Add(new Entry(fill, order), bound);

    public void Add(Fill fill, int bound) => _entries.Add(new Entry(fill, null), bound);

    public IEnumerator<Fill> GetEnumerator()
    {
        foreach (var e in _entries) yield return e.ToFill();
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// The fills as they are now, for a snapshot: a copy of the slots, taken on the shard's loop; the
    /// records are made when the snapshot is written, off the loop.
    /// </summary>
    public IReadOnlyList<Fill> Capture() => new Captured(_entries.ToArray());

    private sealed class Captured(Entry[] entries) : IReadOnlyList<Fill>
    {
        public int Count => entries.Length;

        public Fill this[int index] => entries[index].ToFill();

        public IEnumerator<Fill> GetEnumerator()
        {
            foreach (var e in entries) yield return e.ToFill();
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>An <see cref="OrderFilled"/> with its order's spec, or a <see cref="Fill"/> record.</summary>
    private readonly record struct Entry(object Source, OrderSpec? Order)
    {
        public Fill ToFill()
        {
            if (Source is Fill fill) return fill;
            var f = (OrderFilled)Source;
            var o = Order!;
            return new Fill(f.Fill, o.Number, o.Bucket, o.Symbol, o.Side, f.Quantity, f.Price, f.Fee, f.RealizedPnl, f.Liquidity, f.At);
        }
    }
}
