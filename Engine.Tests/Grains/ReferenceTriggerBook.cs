using Engine.Grains.Orders;
using static Engine.Grains.Orders.TriggerDirection;

namespace Engine.Tests.Grains;

/// <summary>
/// The trigger book's contract as a plain list checked in full on every price: what fires, in which
/// order, and what an evaluation hands out step by step. The book is tested against it.
/// </summary>
internal sealed class ReferenceTriggerBook
{
    private readonly List<Entry> _entries = [];
    private readonly List<long> _levels = [];
    private readonly List<Entry> _trailing = [];
    private int _levelNext;
    private int _trailingNext;
    private long _seq;

    public int Count => _entries.Count;

    public int LevelCount => _entries.Count(e => !e.Trailing);

    public int TrailingCount => _entries.Count(e => e.Trailing);

    public void AddLevel(long key, TriggerDirection direction, decimal trigger)
    {
        var entry = new Entry(key, _seq++, direction, false, trigger, null, null);
        NoteAdded(entry);
        _entries.Add(entry);
    }

    public void AddTrailing(long key, TriggerDirection direction, decimal? rate, decimal? amount, decimal extreme)
    {
        var entry = new Entry(key, _seq++, direction, true, extreme, rate, amount);
        NoteAdded(entry);
        _entries.Add(entry);
    }

    /// <summary>Removals or re-adds, mid-evaluation, of a reached level's key before its turn.</summary>
    public int PendingLevelsTouched { get; private set; }

    /// <summary>Removals, mid-evaluation, of a reached trailing entry before its turn.</summary>
    public int PendingTrailingRemoved { get; private set; }

    /// <summary>Entries added mid-evaluation whose trigger the evaluated price reaches.</summary>
    public int ReachedWhileOpen { get; private set; }

    private decimal? _price;

    /// <summary>Keys the open evaluation reached and has not handed out yet.</summary>
    public List<long> PendingKeys() =>
        [.. _levels.Skip(_levelNext), .. _trailing.Skip(_trailingNext).Where(_entries.Contains).Select(e => e.Key)];

    public bool Remove(long key)
    {
        NoteTouched(key);
        if (_trailing.Skip(_trailingNext).Any(e => e.Key == key && _entries.Contains(e)))
        {
            PendingTrailingRemoved++;
        }

        return _entries.RemoveAll(e => e.Key == key) != 0;
    }

    private void NoteTouched(long key)
    {
        if (_price is not null && _levels.Skip(_levelNext).Contains(key))
        {
            PendingLevelsTouched++;
        }
    }

    private void NoteAdded(Entry entry)
    {
        NoteTouched(entry.Key);
        if (_price is { } price && (entry.Direction == Rise ? price >= entry.Trigger : price <= entry.Trigger))
        {
            ReachedWhileOpen++;
        }
    }

    public bool Contains(long key) => _entries.Any(e => e.Key == key);

    public IEnumerable<(long Key, decimal Extreme)> Extremes() =>
        _entries.Where(e => e.Trailing).Select(e => (e.Key, e.Price));

    /// <summary>A whole evaluation at once: every key the price reaches, in firing order.</summary>
    public TrailingMoves Evaluate(decimal price, List<long> fired)
    {
        Begin(price, out var moves);
        while (Next() is { } key) fired.Add(key);
        Complete();
        return moves;
    }

    public decimal? TrailingExtreme(long key) => _entries.FirstOrDefault(e => e.Key == key && e.Trailing)?.Price;

    public decimal? AnyTrailingExtreme(Random random)
    {
        var trailing = _entries.Where(e => e.Trailing).ToList();
        return trailing.Count == 0 ? null : trailing[random.Next(trailing.Count)].Price;
    }

    public bool MoveTrailingExtremes(TriggerDirection direction, decimal price)
    {
        var moved = false;
        foreach (var e in _entries.Where(e => e.Trailing && e.Direction == direction))
        {
            var next = direction == Fall ? Math.Max(e.Price, price) : Math.Min(e.Price, price);
            moved |= next != e.Price;
            e.Price = next;
        }

        return moved;
    }

    public bool Begin(decimal price, out TrailingMoves moves)
    {
        moves = TrailingMoves.None;
        if (MoveTrailingExtremes(Fall, price))
        {
            moves |= TrailingMoves.Fall;
        }

        if (MoveTrailingExtremes(Rise, price))
        {
            moves |= TrailingMoves.Rise;
        }

        var hits = new List<(int Run, decimal Order, long Seq, Entry Entry)>();
        foreach (var e in _entries)
        {
            var trigger = e.Trigger;
            if (e.Direction == Rise && price >= trigger)
            {
                hits.Add((e.Trailing ? 2 : 0, trigger, e.Seq, e));
            }
            else if (e.Direction == Fall && price <= trigger)
            {
                hits.Add((e.Trailing ? 3 : 1, -trigger, e.Seq, e));
            }
        }

        _levels.Clear();
        _trailing.Clear();
        _levelNext = 0;
        _trailingNext = 0;
        _price = hits.Count != 0 ? price : null;
        foreach (var hit in hits.OrderBy(h => h.Run).ThenBy(h => h.Order).ThenBy(h => h.Seq))
        {
            if (hit.Entry.Trailing)
            {
                _trailing.Add(hit.Entry);
            }
            else
            {
                _levels.Add(hit.Entry.Key);
                _entries.Remove(hit.Entry);
            }
        }

        return hits.Count != 0;
    }

    public long? Next()
    {
        if (_levelNext < _levels.Count)
        {
            return _levels[_levelNext++];
        }

        while (_trailingNext < _trailing.Count)
        {
            var entry = _trailing[_trailingNext++];
            if (_entries.Remove(entry))
            {
                return entry.Key;
            }
        }

        return null;
    }

    public void Complete()
    {
        _levels.Clear();
        _trailing.Clear();
        _price = null;
    }

    private sealed class Entry(long key, long seq, TriggerDirection direction, bool trailing, decimal price, decimal? rate, decimal? amount)
    {
        public long Key { get; } = key;
        public long Seq { get; } = seq;
        public TriggerDirection Direction { get; } = direction;
        public bool Trailing { get; } = trailing;

        /// <summary>The level's trigger, or the trailing entry's extreme.</summary>
        public decimal Price { get; set; } = price;

        public decimal Trigger => (Trailing, Direction) switch
        {
            (false, _) => Price,
            (true, TriggerDirection.Fall) => rate is { } r ? Price * (1m - r) : Price - amount!.Value,
            _ => rate is { } r ? Price * (1m + r) : Price + amount!.Value,
        };
    }
}
