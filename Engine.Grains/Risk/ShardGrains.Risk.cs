using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Risk;

namespace Engine.Grains;

/// <summary>
/// Risk controls: the shard state they need, how their events apply, and the two points where the
/// price and time paths hand over to them. Everything here is either journaled state (halts,
/// confirmations, the accounts' and buckets' flags) or an index derived from it that restore and
/// replay rebuild; the fingerprint lists both.
/// </summary>
public sealed partial class ShardGrains
{
    /// <summary>Halted symbols: their books are not evaluated until they resume.</summary>
    private readonly Dictionary<string, SymbolHalt> _halts = new(StringComparer.Ordinal);

    /// <summary>
    /// Wick-protected orders whose trigger held, by order number; and their ends by (end, order number),
    /// a total order, so the queue gives them in the same order whatever its history. An entry whose
    /// confirmation ended otherwise (fired, cancelled) stays until its time and is then skipped.
    /// </summary>
    private readonly Dictionary<long, Confirmation> _confirming = [];
    private readonly PriorityQueue<long, (long Ticks, long Order)> _confirmationQueue = new();

    /// <summary>Armed dead man's switches, by deadline then account id.</summary>
    private readonly SortedSet<(long Ticks, string Account)> _deadManSwitches = new(DeadlineOrder.Instance);

    /// <summary>Buckets with a daily loss limit or a loss lock, by id (the order they are checked in).</summary>
    private readonly SortedDictionary<string, Bucket> _lossLimited = new(StringComparer.Ordinal);

    /// <summary>Positions of locked buckets (kill switch, daily loss) still to close, per symbol: bucket ids.</summary>
    private readonly Dictionary<string, SortedSet<string>> _pendingCloses = new(StringComparer.Ordinal);

    /// <summary>Triggered stop-limits with a worst-price fallback, per symbol; and those with a time fallback by deadline.</summary>
    private readonly Dictionary<string, FallbackWatch> _fallbackWatches = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Ticks, long Order)> _fallbackDeadlines = [];

    /// <summary>A started trigger confirmation: the price that first held and when the confirmation ends.</summary>
    internal readonly record struct Confirmation(decimal Price, DateTimeOffset Until);

    /// <summary>Halted symbols with their halt (the runtime's breakers and operators decide them).</summary>
    public IReadOnlyDictionary<string, SymbolHalt> Halts => _halts;

    public bool IsHalted(string symbol) => _halts.Count != 0 && _halts.ContainsKey(symbol);

    /// <summary>When a confirming order's confirmation ends, or null.</summary>
    public DateTimeOffset? ConfirmingUntil(Order order) =>
        order.Phase == OrderPhase.Confirming && _confirming.TryGetValue(order.Number, out var c) ? c.Until : null;

    /// <summary>
    /// Why <paramref name="bucket"/> takes no new orders: <c>kill_switch</c> (the account's or the bucket's),
    /// <c>daily_loss_limit</c>, or null. Copy trading (not built yet) must ask this before it mirrors a
    /// signal into a follower bucket, and record the signal as skipped with
    /// <see cref="OrderReasons.BucketLocked"/>: that is how a kill switch on a copy bucket pauses its subscription.
    /// </summary>
    public static string? LockReason(Account account, Bucket bucket) =>
        account.KillSwitch || bucket.KillSwitch ? OrderReasons.KillSwitch
        : bucket.LossLocked ? OrderReasons.DailyLossLimit
        : null;

    /// <summary><see cref="LockReason(Account, Bucket)"/> of a bucket of this shard.</summary>
    public string? LockReasonOf(Bucket bucket) =>
        _accounts.TryGetValue(AccountOfBucket(bucket.Id), out var account) ? LockReason(account, bucket) : null;

    /// <summary>The UTC day (00:00) of a time.</summary>
    internal static DateTimeOffset DayOf(DateTimeOffset t) => new(t.UtcDateTime.Date, TimeSpan.Zero);

    /// <summary>Time-driven risk work, at the start of <see cref="AdvanceTime"/>.</summary>
    private void AdvanceRisk()
    {
        if (_deadManSwitches.Count != 0) FireDeadManSwitches();
        if (_confirmationQueue.Count != 0) ResolveConfirmations();
        if (_fallbackDeadlines.Count != 0) ResolveFallbackDeadlines();
        if (_lossLimited.Count != 0) AdvanceLossLimits();
    }

    /// <summary>After a (not halted) symbol's new prices were evaluated: fallbacks, locked buckets' closes, loss limits.</summary>
    private void AfterPrices(string symbol)
    {
        if (_fallbackWatches.Count != 0) CheckFallbackWatch(symbol);
        if (_pendingCloses.Count != 0) ClosePending(symbol);
        if (_lossLimited.Count != 0) CheckLossLimits(symbol);
    }

    private void ApplySymbolHalt(EngineEvent e)
    {
        switch (e)
        {
            case SymbolHalted h:
                _halts[InstrumentOf(h.Symbol).Symbol] = new SymbolHalt(h.Reason, h.Since, h.Until);
                break;
            case SymbolResumed r:
                _halts.Remove(r.Symbol);
                break;
        }
    }

    /// <summary>The account events of the risk controls (the others are applied by <see cref="Apply"/>).</summary>
    private void ApplyRisk(Account account, AccountEvent e)
    {
        switch (e)
        {
            case KillSwitchEngaged k:
                if (k.Bucket is { } engaged) account.FindBucket(engaged)!.KillSwitch = true;
                else account.KillSwitch = true;
                SyncPendingCloses(account);
                break;
            case KillSwitchReleased k:
                if (k.Bucket is { } released) account.FindBucket(released)!.KillSwitch = false;
                else account.KillSwitch = false;
                SyncPendingCloses(account);
                break;
            case CancelAllAfterSet s:
                if (account.CancelAllAfter is { } old) _deadManSwitches.Remove((old.UtcTicks, account.Id.Value));
                account.CancelAllAfter = s.Deadline;
                if (s.Deadline is { } deadline) _deadManSwitches.Add((deadline.UtcTicks, account.Id.Value));
                break;
            case CancelAllAfterTriggered:
                if (account.CancelAllAfter is { } fired) _deadManSwitches.Remove((fired.UtcTicks, account.Id.Value));
                account.CancelAllAfter = null;
                break;
            case DailyLossLimitSet l:
            {
                var bucket = account.FindBucket(l.Bucket)!;
                bucket.DailyLossLimit = l.Limit;
                bucket.LossBaseline = l.Baseline;
                bucket.LossDay = l.Day;
                TrackLossLimit(bucket);
                break;
            }

            case DailyLossLimitReached r:
                account.FindBucket(r.Bucket)!.LossLocked = true;
                SyncPendingCloses(account);
                break;
            case DailyLossLockReleased r:
            {
                var bucket = account.FindBucket(r.Bucket)!;
                bucket.LossLocked = false;
                bucket.LossBaseline = r.Baseline;
                TrackLossLimit(bucket);
                SyncPendingCloses(account);
                break;
            }

            case BucketDayStarted d:
            {
                var bucket = account.FindBucket(d.Bucket)!;
                bucket.LossDay = d.Day;
                bucket.LossBaseline = d.Baseline;
                bucket.LossLocked = false;
                TrackLossLimit(bucket);
                SyncPendingCloses(account);
                break;
            }

            case TriggerConfirmationStarted s:
            {
                var order = _orders[s.Order];
                Unindex(order);
                order.EnterPhase(OrderPhase.Confirming, e.At);
                StartConfirmation(order.Number, new Confirmation(s.Price, s.Until));
                break;
            }

            case TriggerConfirmationFailed f:
            {
                var order = _orders[f.Order];
                Unindex(order);
                order.EnterPhase(OrderPhase.Waiting, e.At);
                Index(order);
                break;
            }

            case OrderConvertedToMarket m:
            {
                var order = _orders[m.Order];
                Unindex(order);
                order.ConvertToMarket(e.At);
                break;
            }
        }
    }

    private void StartConfirmation(long order, Confirmation confirmation)
    {
        _confirming[order] = confirmation;
        _confirmationQueue.Enqueue(order, (confirmation.Until.UtcTicks, order));
    }

    private void EndConfirmation(Order order) => _confirming.Remove(order.Number);

    /// <summary>A bucket is watched by the daily-loss checks while it has a limit or is locked by one.</summary>
    private void TrackLossLimit(Bucket bucket)
    {
        if (bucket.DailyLossLimit is not null || bucket.LossLocked) _lossLimited[bucket.Id.Value] = bucket;
        else _lossLimited.Remove(bucket.Id.Value);
    }

    /// <summary>Every position of a locked bucket is to be closed; an unlocked bucket's are not.</summary>
    private void SyncPendingCloses(Account account)
    {
        foreach (var bucket in account.Buckets)
        {
            var locked = account.KillSwitch || bucket.Locked;
            foreach (var symbol in bucket.Positions.Keys)
            {
                if (locked)
                {
                    if (!_pendingCloses.TryGetValue(symbol, out var set))
                        _pendingCloses[InstrumentOf(symbol).Symbol] = set = new SortedSet<string>(StringComparer.Ordinal);
                    set.Add(bucket.Id.Value);
                }
                else
                {
                    ForgetPendingClose(symbol, bucket.Id);
                }
            }
        }
    }

    private void ForgetPendingClose(string symbol, BucketId bucket)
    {
        if (!_pendingCloses.TryGetValue(symbol, out var set) || !set.Remove(bucket.Value)) return;
        if (set.Count == 0) _pendingCloses.Remove(symbol);
    }

    /// <summary>Rebuilds the indexes derived from restored accounts, buckets and orders (snapshots carry only the state).</summary>
    private void RebuildRiskIndexes(ShardSnapshot s)
    {
        foreach (var h in s.Halts)
        {
            if (Instruments.Find(h.Symbol) is not { } instrument) throw Corrupt($"a halt names {h.Symbol}, which is not an instrument");
            if (!_halts.TryAdd(instrument.Symbol, new SymbolHalt(h.Reason, h.Since, h.Until))) throw Corrupt($"{h.Symbol} is halted twice");
        }

        foreach (var c in s.Confirmations)
        {
            if (!_orders.TryGetValue(c.Order, out var order) || order.Phase != OrderPhase.Confirming)
                throw Corrupt($"confirmation of order {c.Order}, which is not confirming");
            if (_confirming.ContainsKey(c.Order)) throw Corrupt($"order {c.Order} is confirming twice");
            StartConfirmation(c.Order, new Confirmation(c.Price, c.Until));
        }

        foreach (var order in _orders.Values)
            if (order.Phase == OrderPhase.Confirming && !_confirming.ContainsKey(order.Number))
                throw Corrupt($"order {order.Number} is confirming without a confirmation");

        foreach (var account in _accounts.Values)
        {
            if (account.CancelAllAfter is { } deadline) _deadManSwitches.Add((deadline.UtcTicks, account.Id.Value));
            foreach (var bucket in account.Buckets) TrackLossLimit(bucket);
            SyncPendingCloses(account);
        }
    }

    /// <summary>Orders (time, account id) with the account ids compared ordinally.</summary>
    private sealed class DeadlineOrder : IComparer<(long Ticks, string Account)>
    {
        public static DeadlineOrder Instance { get; } = new();

        public int Compare((long Ticks, string Account) x, (long Ticks, string Account) y)
        {
            var c = x.Ticks.CompareTo(y.Ticks);
            return c != 0 ? c : string.CompareOrdinal(x.Account, y.Account);
        }
    }
}
