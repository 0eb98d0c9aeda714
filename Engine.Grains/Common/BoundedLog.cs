using System.Collections;

namespace Engine.Grains.Common;

/// <summary>
/// The newest items up to a bound, oldest first: a ring that grows by doubling until it reaches its
/// bound and then overwrites the oldest. Small accounts keep small arrays.
/// </summary>
public sealed class BoundedLog<T> : IReadOnlyCollection<T>
{
    private T[] _items = [];
    private int _head;

    public int Count { get; private set; }

    /// <summary>Appends <paramref name="item"/>, dropping the oldest items beyond <paramref name="bound"/>.</summary>
    public void Add(T item, int bound)
    {
        if (bound <= 0) return;
        if (Count < bound && Count == _items.Length)
        {
            var grown = new T[Math.Min(bound, Math.Max(4, _items.Length * 2))];
            CopyTo(grown);
            _items = grown;
            _head = 0;
        }

        if (Count < _items.Length)
        {
            _items[(_head + Count) % _items.Length] = item;
            Count++;
            return;
        }

        // Full at its bound: the new item takes the oldest one's slot.
        _items[_head] = item;
        _head = (_head + 1) % _items.Length;
    }

    public IEnumerator<T> GetEnumerator()
    {
        for (var i = 0; i < Count; i++) yield return _items[(_head + i) % _items.Length];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The newest item.</summary>
    /// <exception cref="InvalidOperationException">The log is empty.</exception>
    public T Newest => Count > 0 ? _items[(_head + Count - 1) % _items.Length] : throw new InvalidOperationException("the log is empty");

    /// <summary>The items, oldest first, in a new array.</summary>
    public T[] ToArray()
    {
        var items = new T[Count];
        CopyTo(items);
        return items;
    }

    private void CopyTo(T[] target)
    {
        for (var i = 0; i < Count; i++) target[i] = _items[(_head + i) % _items.Length];
    }
}
