using System.Runtime.InteropServices;

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
/// <para>
/// A caller that acts on each fired key (and may add or remove entries while doing so) evaluates in
/// three steps, so that it acts on the first key as soon as that key is known rather than after the
/// book has taken out everything the price fired: <see cref="BeginEvaluation"/>,
/// <see cref="TryNextFired"/> until it returns false, <see cref="CompleteEvaluation"/>. The keys come
/// in the order <see cref="Evaluate"/> appends them. Level entries fire when the evaluation begins:
/// they leave the book then, and are handed out even if the caller removes or re-adds their key before
/// their turn (a fill may move a position's liquidation level while that level is waiting to be handed
/// out). Trailing entries fire as they are handed out, so one the caller removes before its turn is not
/// handed out; where decimal rounding could give entries with different callbacks the same trigger,
/// those fire together, when the first of them is handed out. Entries added during the evaluation wait
/// for the next one, whatever their trigger.
/// </para>
/// </remarks>
public sealed class TriggerBook
{
    private readonly ITriggerEntryStore _store;
    private readonly int _id;
    private readonly TriggerLevelHeap _riseLevels;
    private readonly TriggerLevelHeap _fallLevels;
    private readonly TrailingTriggerSide _riseTrailing;
    private readonly TrailingTriggerSide _fallTrailing;
    private readonly TrailingFiredBuffer _firedTrailing = new();

    // The open evaluation: its price, and which run of keys TryNextFired hands out now.
    private decimal _price;
    private Stage _stage = Stage.Closed;

    /// <summary>A book with a store of its own.</summary>
    public TriggerBook()
        : this(new DictionaryTriggerEntryStore())
    {
    }

    /// <summary>A book keeping its entries in <paramref name="store"/>, which other books may share.</summary>
    internal TriggerBook(ITriggerEntryStore store)
    {
        _store = store;
        _id = store.RegisterBook();
        _riseLevels = new TriggerLevelHeap(store, _id, TriggerEntryKind.RiseLevel);
        _fallLevels = new TriggerLevelHeap(store, _id, TriggerEntryKind.FallLevel);
        _riseTrailing = new TrailingTriggerSide(store, _id, rateWidens: true);
        _fallTrailing = new TrailingTriggerSide(store, _id, rateWidens: false);
    }

    /// <summary>The live entries in insertion order, for snapshots.</summary>
    internal static List<TriggerBookEntry> EntriesOf(TriggerBook book)
    {
        book.SettleLevels();
        var entries = new List<TriggerBookEntry>(book.Count);
        book._riseLevels.AddLiveTo(entries);
        book._fallLevels.AddLiveTo(entries);
        book._riseTrailing.AddLiveTo(entries, TriggerEntryKind.RiseTrailing);
        book._fallTrailing.AddLiveTo(entries, TriggerEntryKind.FallTrailing);
        CollectionsMarshal.AsSpan(entries).Sort(default(BySeq));
        return entries;
    }

    /// <summary>Live entries: levels plus trailing stops.</summary>
    public int Count => LevelCount + TrailingCount;

    /// <summary>Live plain level triggers.</summary>
    public int LevelCount
    {
        get
        {
            SettleLevels();
            return _riseLevels.LiveCount + _fallLevels.LiveCount;
        }
    }

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
        var kind = rise ? TriggerEntryKind.RiseLevel : TriggerEntryKind.FallLevel;
        var seq = _store.NextSeq();
        if (!_store.TryAdd(key, new TriggerEntry(_id, kind, seq)))
        {
            // Free if it is a level this evaluation fired that was not handed out yet.
            if (!(_store.TryGet(key, out var pending) && SettledAsFired(key, pending) && _store.TryAdd(key, new TriggerEntry(_id, kind, seq))))
            {
                throw DuplicateKey(key);
            }
        }

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
        if (_store.TryGet(key, out var existing) && !SettledAsFired(key, existing))
        {
            throw DuplicateKey(key);
        }

        var side = rise ? _riseTrailing : _fallTrailing;
        var slot = side.Add(key, _store.NextSeq(), callback, isAmount: callbackAmount.HasValue, rise ? -extreme : extreme);
        _store.TryAdd(key, new TriggerEntry(_id, rise ? TriggerEntryKind.RiseTrailing : TriggerEntryKind.FallTrailing, slot));
    }

    /// <summary>Removes an entry of any kind; false when the key is unknown.</summary>
    public bool Remove(long key)
    {
        if (_stage != Stage.Closed && _store.TryGet(key, out var pending) && SettledAsFired(key, pending))
        {
            return false;
        }

        if (!_store.TryRemove(key, _id, out var entry))
        {
            return false;
        }

        switch (entry.Kind)
        {
            case TriggerEntryKind.RiseLevel:
                _riseLevels.OnRemoved(key, entry.Position);
                break;
            case TriggerEntryKind.FallLevel:
                _fallLevels.OnRemoved(key, entry.Position);
                break;
            case TriggerEntryKind.RiseTrailing:
                _riseTrailing.Remove((int)entry.Position);
                break;
            default:
                _fallTrailing.Remove((int)entry.Position);
                break;
        }

        return true;
    }

    public bool Contains(long key) => TryGetOwn(key, out var entry) && !SettledAsFired(key, entry);

    /// <summary>Current extreme of an active trailing entry; null if the key is not a trailing entry.</summary>
    public decimal? TrailingExtreme(long key)
    {
        if (!TryGetOwn(key, out var entry))
        {
            return null;
        }

        return entry.Kind switch
        {
            TriggerEntryKind.RiseTrailing => -_riseTrailing.ExtremeOf((int)entry.Position),
            TriggerEntryKind.FallTrailing => _fallTrailing.ExtremeOf((int)entry.Position),
            _ => null,
        };
    }

    /// <summary>The key's entry if it is in this book (the store may hold it for another).</summary>
    private bool TryGetOwn(long key, out TriggerEntry entry) => _store.TryGet(key, out entry) && entry.Book == _id;

    /// <summary>
    /// Moves trailing extremes toward <paramref name="price"/> without firing anything: with Fall every
    /// Fall-trailing extreme becomes max(extreme, price); with Rise every Rise-trailing extreme becomes
    /// min(extreme, price). Replays journaled moves.
    /// </summary>
    /// <exception cref="InvalidOperationException">An evaluation is open.</exception>
    public void MoveTrailingExtremes(TriggerDirection direction, decimal price)
    {
        var rise = IsRise(direction);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(price);
        ThrowIfEvaluating();
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
        if (BeginEvaluation(price, out var moves))
        {
            while (TryNextFired(out var key))
            {
                fired.Add(key);
            }

            CompleteEvaluation();
        }

        return moves;
    }

    /// <summary>True between <see cref="BeginEvaluation"/> and <see cref="CompleteEvaluation"/>.</summary>
    public bool IsEvaluating => _stage != Stage.Closed;

    /// <summary>
    /// Starts processing one price: moves the trailing extremes of both directions toward it and, when
    /// the price fires anything, opens an evaluation and fires the level entries it reaches (see the
    /// remarks for when trailing entries fire). Costs O(k) for k fired levels plus the extreme moves; the
    /// heaps are restructured by <see cref="CompleteEvaluation"/>.
    /// </summary>
    /// <param name="moves">Which directions' trailing extremes moved, so the caller can journal them.</param>
    /// <returns>
    /// True when the price fires something: an evaluation is open, to be drained with
    /// <see cref="TryNextFired"/> and ended with <see cref="CompleteEvaluation"/>. False when it fires
    /// nothing: no evaluation is opened (the common case stays a few comparisons).
    /// </returns>
    /// <exception cref="InvalidOperationException">An evaluation is already open.</exception>
    public bool BeginEvaluation(decimal price, out TrailingMoves moves)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(price);
        ThrowIfEvaluating();
        var negated = -price;

        moves = TrailingMoves.None;
        if (_fallTrailing.MoveExtremes(price))
        {
            moves |= TrailingMoves.Fall;
        }

        if (_riseTrailing.MoveExtremes(negated))
        {
            moves |= TrailingMoves.Rise;
        }

        if (!_riseLevels.WouldFire(negated) && !_fallLevels.WouldFire(price)
            && !_riseTrailing.WouldFire(negated) && !_fallTrailing.WouldFire(price))
        {
            return false;
        }

        // Both heaps freeze for the evaluation, whether the price reaches them or not.
        _riseLevels.BeginFire(negated, _store.IssuedSeqs);
        _fallLevels.BeginFire(price, _store.IssuedSeqs);

        _price = price;
        _stage = Stage.RiseLevels;
        _riseTrailing.Parking = true;
        _fallTrailing.Parking = true;
        return true;
    }

    /// <summary>
    /// The next fired key of the open evaluation, in <see cref="Evaluate"/>'s order: Rise levels, Fall
    /// levels, Rise trailing, Fall trailing. False when there is none left (and from then on).
    /// </summary>
    /// <exception cref="InvalidOperationException">No evaluation is open.</exception>
    public bool TryNextFired(out long key)
    {
        switch (_stage)
        {
            case Stage.RiseLevels:
                if (_riseLevels.TryTakeFired(out key))
                {
                    return true;
                }

                _stage = Stage.FallLevels;
                goto case Stage.FallLevels;
            case Stage.FallLevels:
                if (_fallLevels.TryTakeFired(out key))
                {
                    return true;
                }

                _stage = Stage.RiseTrailing;
                goto case Stage.RiseTrailing;
            case Stage.RiseTrailing:
                if (_riseTrailing.TryFireNext(-_price, _firedTrailing, out key))
                {
                    return true;
                }

                _stage = Stage.FallTrailing;
                goto case Stage.FallTrailing;
            case Stage.FallTrailing:
                if (_fallTrailing.TryFireNext(_price, _firedTrailing, out key))
                {
                    return true;
                }

                _stage = Stage.Done;
                return false;
            case Stage.Done:
                key = 0;
                return false;
            default:
                throw new InvalidOperationException("No evaluation is open.");
        }
    }

    /// <summary>
    /// Ends the open evaluation: the level heaps drop the fired nodes from their tops, and trailing
    /// entries added meanwhile join their groups. Level entries fired but not handed out stay fired;
    /// trailing entries whose trigger price was not handed out yet stay in the book.
    /// </summary>
    /// <exception cref="InvalidOperationException">No evaluation is open.</exception>
    public void CompleteEvaluation()
    {
        if (_stage == Stage.Closed)
        {
            throw new InvalidOperationException("No evaluation is open.");
        }

        _stage = Stage.Closed;
        _firedTrailing.Clear();
        _riseLevels.CompleteFire();
        _fallLevels.CompleteFire();
        _riseTrailing.EndFiring();
        _fallTrailing.EndFiring();
        _riseTrailing.Unpark();
        _fallTrailing.Unpark();
    }

    /// <summary>
    /// During an evaluation a level entry the price reached may still be in the store, not yet
    /// looked at (see <see cref="TriggerLevelHeap"/>). It fired when the evaluation began, so before its
    /// entry is read, removed or replaced it is settled: true when it turns out to have fired (it has
    /// left the store).
    /// </summary>
    private bool SettledAsFired(long key, in TriggerEntry entry) =>
        _stage != Stage.Closed && entry.Book == _id && entry.Kind switch
        {
            TriggerEntryKind.RiseLevel => _riseLevels.SettleIfFired(key, entry.Position),
            TriggerEntryKind.FallLevel => _fallLevels.SettleIfFired(key, entry.Position),
            _ => false,
        };

    private void SettleLevels()
    {
        if (_stage != Stage.Closed)
        {
            _riseLevels.SettleAll();
            _fallLevels.SettleAll();
        }
    }

    private void ThrowIfEvaluating()
    {
        if (_stage != Stage.Closed)
        {
            throw new InvalidOperationException("An evaluation of this book is open: complete it first.");
        }
    }

    private readonly struct BySeq : IComparer<TriggerBookEntry>
    {
        public int Compare(TriggerBookEntry x, TriggerBookEntry y) => x.Seq.CompareTo(y.Seq);
    }

    private enum Stage : byte
    {
        Closed,
        RiseLevels,
        FallLevels,
        RiseTrailing,
        FallTrailing,
        Done,
    }

    private static bool IsRise(TriggerDirection direction) => direction switch
    {
        TriggerDirection.Rise => true,
        TriggerDirection.Fall => false,
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, "Unknown trigger direction."),
    };

    private static ArgumentException DuplicateKey(long key) =>
        new($"Key {key} already has a trigger-book entry.", nameof(key));
}
