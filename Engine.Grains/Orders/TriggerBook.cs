namespace Engine.Grains.Orders;

/// <summary>Which trailing extremes an <see cref="TriggerBook.Evaluate"/> call moved.</summary>
[Flags]
public enum TrailingMoves
{
    None = 0,
    Fall = 1,
    Rise = 2,
}

/// <summary>
/// The waiting triggers of many orders for one symbol and one price source: plain level triggers
/// and active trailing stops, each under a caller-chosen key that is unique within the book.
/// Single-writer: the caller serializes access.
/// </summary>
/// <remarks>
/// <para>
/// A price that fires nothing and moves no trailing extreme costs six comparisons against cached
/// bests and allocates nothing. Moving trailing extremes costs O(log g) amortized for g groups of
/// trailing stops sharing an extreme, never a scan of the trailing stops (see
/// <see cref="TrailingTriggerSide"/>). A price that fires k entries costs O((k + 1) log n) amortized.
/// </para>
/// <para>
/// Rise-side structures store prices negated so that both directions share one implementation that
/// only knows "fires when x &lt;= trigger" and "the extreme is the highest x seen". Decimal negation is
/// exact and decimal rounding is symmetric in sign, so negated results equal the negation of the
/// directly computed ones bit for bit.
/// </para>
/// <para>
/// Order of keys appended by <see cref="Evaluate"/>: Rise levels by ascending trigger, Fall levels by
/// descending trigger, Rise trailing by ascending effective trigger, Fall trailing by descending
/// effective trigger — within each run the entry the price reached first comes first, and equal
/// triggers go in insertion order.
/// </para>
/// <para>
/// Prices given to <see cref="Evaluate"/>, <see cref="MoveTrailingExtremes"/> and trailing extremes
/// must be positive: a trailing group relies on "smaller callback, nearer trigger", which holds only
/// for a positive extreme.
/// </para>
/// </remarks>
public sealed class TriggerBook
{
    private readonly Dictionary<long, TriggerEntry> _entries = new();

    /// <summary>The live entries with their insertion sequence, for snapshots (read only).</summary>
    internal static IReadOnlyDictionary<long, TriggerEntry> EntriesOf(TriggerBook book) => book._entries;
    private readonly TriggerLevelHeap _riseLevels;
    private readonly TriggerLevelHeap _fallLevels;
    private readonly TrailingTriggerSide _riseTrailing;
    private readonly TrailingTriggerSide _fallTrailing;
    private readonly TrailingFiredBuffer _firedTrailing = new();
    private long _nextSeq;

    public TriggerBook()
    {
        _riseLevels = new TriggerLevelHeap(_entries);
        _fallLevels = new TriggerLevelHeap(_entries);
        _riseTrailing = new TrailingTriggerSide(_entries, rateWidens: true);
        _fallTrailing = new TrailingTriggerSide(_entries, rateWidens: false);
    }

    /// <summary>Live entries: levels plus trailing stops.</summary>
    public int Count => _entries.Count;

    /// <summary>Live plain level triggers.</summary>
    public int LevelCount => _riseLevels.LiveCount + _fallLevels.LiveCount;

    /// <summary>Live trailing stops.</summary>
    public int TrailingCount => _riseTrailing.Count + _fallTrailing.Count;

    /// <summary>Groups of trailing stops sharing an extreme: what a price that moves extremes pays for.</summary>
    internal int TrailingGroupCount => _riseTrailing.GroupCount + _fallTrailing.GroupCount;

    /// <summary>
    /// A plain level trigger: fires when price &gt;= <paramref name="triggerPrice"/> (Rise) or
    /// price &lt;= <paramref name="triggerPrice"/> (Fall).
    /// </summary>
    public void AddLevel(long key, TriggerDirection direction, decimal triggerPrice)
    {
        var rise = IsRise(direction);
        var seq = Reserve(key, rise ? TriggerEntryKind.RiseLevel : TriggerEntryKind.FallLevel, slot: -1);
        if (rise)
        {
            _riseLevels.Add(-triggerPrice, seq, key);
        }
        else
        {
            _fallLevels.Add(triggerPrice, seq, key);
        }
    }

    /// <summary>
    /// An active trailing stop. <paramref name="fireDirection"/> Fall is a trailing sell: it tracks the
    /// highest price seen, starting at <paramref name="extreme"/>, and fires when
    /// price &lt;= extreme * (1 - callbackRate) or price &lt;= extreme - callbackAmount. Rise is a
    /// trailing buy: it tracks the lowest price and fires when price &gt;= extreme * (1 + callbackRate)
    /// or price &gt;= extreme + callbackAmount. Exactly one of the callbacks is non-null and positive.
    /// </summary>
    public void AddTrailing(
        long key,
        TriggerDirection fireDirection,
        decimal? callbackRate,
        decimal? callbackAmount,
        decimal extreme)
    {
        var rise = IsRise(fireDirection);
        if (callbackRate.HasValue == callbackAmount.HasValue)
        {
            throw new ArgumentException("Exactly one of callbackRate and callbackAmount must be given.");
        }

        var callback = callbackRate ?? callbackAmount!.Value;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(callback, callbackRate.HasValue ? nameof(callbackRate) : nameof(callbackAmount));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(extreme);
        if (_entries.ContainsKey(key))
        {
            throw DuplicateKey(key);
        }

        var side = rise ? _riseTrailing : _fallTrailing;
        var slot = side.Add(key, _nextSeq, callback, isAmount: callbackAmount.HasValue, rise ? -extreme : extreme);
        Reserve(key, rise ? TriggerEntryKind.RiseTrailing : TriggerEntryKind.FallTrailing, slot);
    }

    /// <summary>Removes an entry of any kind; false when the key is unknown.</summary>
    public bool Remove(long key)
    {
        if (!_entries.Remove(key, out var entry))
        {
            return false;
        }

        switch (entry.Kind)
        {
            case TriggerEntryKind.RiseLevel:
                _riseLevels.OnRemoved(key, entry.Seq);
                break;
            case TriggerEntryKind.FallLevel:
                _fallLevels.OnRemoved(key, entry.Seq);
                break;
            case TriggerEntryKind.RiseTrailing:
                _riseTrailing.Remove(entry.Slot);
                break;
            default:
                _fallTrailing.Remove(entry.Slot);
                break;
        }

        return true;
    }

    public bool Contains(long key) => _entries.ContainsKey(key);

    /// <summary>Current extreme of an active trailing entry; null if the key is not a trailing entry.</summary>
    public decimal? TrailingExtreme(long key)
    {
        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        return entry.Kind switch
        {
            TriggerEntryKind.RiseTrailing => -_riseTrailing.ExtremeOf(entry.Slot),
            TriggerEntryKind.FallTrailing => _fallTrailing.ExtremeOf(entry.Slot),
            _ => null,
        };
    }

    /// <summary>
    /// Moves trailing extremes toward <paramref name="price"/> without firing anything: with Fall every
    /// Fall-trailing extreme becomes max(extreme, price); with Rise every Rise-trailing extreme becomes
    /// min(extreme, price). Replays journaled moves.
    /// </summary>
    public void MoveTrailingExtremes(TriggerDirection direction, decimal price)
    {
        var rise = IsRise(direction);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(price);
        if (rise)
        {
            _riseTrailing.MoveExtremes(-price);
        }
        else
        {
            _fallTrailing.MoveExtremes(price);
        }
    }

    /// <summary>
    /// Processes one price: first moves the trailing extremes of both directions toward it, then
    /// removes every entry whose condition holds and appends its key to <paramref name="fired"/>.
    /// The result says which directions' trailing extremes moved, so the caller can journal them.
    /// </summary>
    public TrailingMoves Evaluate(decimal price, List<long> fired)
    {
        ArgumentNullException.ThrowIfNull(fired);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(price);
        var negated = -price;

        var moves = TrailingMoves.None;
        if (_fallTrailing.MoveExtremes(price))
        {
            moves |= TrailingMoves.Fall;
        }

        if (_riseTrailing.MoveExtremes(negated))
        {
            moves |= TrailingMoves.Rise;
        }

        if (_riseLevels.WouldFire(negated))
        {
            _riseLevels.Fire(negated, fired);
        }

        if (_fallLevels.WouldFire(price))
        {
            _fallLevels.Fire(price, fired);
        }

        if (_riseTrailing.WouldFire(negated))
        {
            _riseTrailing.Fire(negated, _firedTrailing);
            _firedTrailing.DrainSorted(fired, TrailingCount);
        }

        if (_fallTrailing.WouldFire(price))
        {
            _fallTrailing.Fire(price, _firedTrailing);
            _firedTrailing.DrainSorted(fired, TrailingCount);
        }

        return moves;
    }

    private long Reserve(long key, TriggerEntryKind kind, int slot)
    {
        var seq = _nextSeq;
        if (!_entries.TryAdd(key, new TriggerEntry(seq, slot, kind)))
        {
            throw DuplicateKey(key);
        }

        _nextSeq = seq + 1;
        return seq;
    }

    private static bool IsRise(TriggerDirection direction) => direction switch
    {
        TriggerDirection.Rise => true,
        TriggerDirection.Fall => false,
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "Unknown trigger direction."),
    };

    private static ArgumentException DuplicateKey(long key) =>
        new($"Key {key} is already in the trigger book.", nameof(key));
}
