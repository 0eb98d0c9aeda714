using System.Runtime.CompilerServices;
using Engine.Grains.Accounts;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains;

public sealed partial class ShardGrains
{
    /// <summary>
    /// The shard's full state as plain data (prices excluded). Call between batches. Costs two passes
    /// over the orders plus a sort of each trigger book's entries; shares the immutable specs, fills and
    /// events, and copies the rest, so the snapshot can be written while the shard moves on.
    /// </summary>
    /// <exception cref="InvalidOperationException">The trigger books and the orders disagree (a domain bug).</exception>
    /// <remarks>
    /// Capture and restore run once over millions of orders, restore in a process that just started:
    /// they are compiled optimized at once instead of starting in tier 0.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal ShardSnapshot Capture()
    {
        var books = new List<((string Symbol, TriggerSource Source) Key, TriggerBook Book)>(_books.Count);
        var total = 0;
        foreach (var (key, book) in _books)
        {
            if (book.Count == 0) continue;
            books.Add((key, book));
            total += book.Count;
        }

        // Book by book (in a canonical order), each book's entries in insertion order: that order is
        // the order its equal triggers fire in, and restoring entry by entry reproduces it.
        books.Sort((x, y) =>
        {
            var c = string.CompareOrdinal(x.Key.Symbol, y.Key.Symbol);
            return c != 0 ? c : x.Key.Source.CompareTo(y.Key.Source);
        });
        var entryKeys = new long[total];
        var entryKinds = new TriggerEntryKind[total];
        var entryBooks = new int[total];
        var n = 0;
        for (var b = 0; b < books.Count; b++)
        {
            foreach (var entry in EntriesOf(books[b].Book))
            {
                entryKeys[n] = entry.Key;
                entryKinds[n] = entry.Kind;
                entryBooks[n] = b;
                n++;
            }
        }

        var orders = new OrderSnapshot[_orders.Count];
        var levelRanks = new Dictionary<long, int>();
        var count = 0;
        for (var i = 0; i < total; i++)
        {
            var (bookKey, book) = books[entryBooks[i]];
            var key = entryKeys[i];
            if (key < 0)
            {
                if (bookKey.Source != TriggerSource.Mark || !_positionsByKey.TryGetValue(-key, out var position) || position.Symbol != bookKey.Symbol)
                    throw OutOfStep($"liquidation level {key} in the {bookKey.Symbol} {bookKey.Source} book has no position");
                levelRanks.Add(-key, i);
                continue;
            }

            if (!_orders.TryGetValue(key, out var order))
                throw OutOfStep($"the {bookKey.Symbol} {bookKey.Source} book holds unknown order {key}");
            var trailing = entryKinds[i] is TriggerEntryKind.RiseTrailing or TriggerEntryKind.FallTrailing;
            var expected = order.Phase switch
            {
                OrderPhase.Waiting or OrderPhase.AwaitingActivation => !trailing ? order.Spec.TriggerBy : (TriggerSource?)null,
                OrderPhase.Trailing => trailing ? order.Spec.TriggerBy : null,
                OrderPhase.Resting => !trailing ? TriggerSource.Index : null,
                _ => null,
            };
            if (expected != bookKey.Source || order.Symbol != bookKey.Symbol)
                throw OutOfStep($"order {key} ({order.Phase}) sits in the {bookKey.Symbol} {bookKey.Source} book as {entryKinds[i]}");
            orders[count++] = SnapshotOf(order, trailing ? book.TrailingExtreme(key) : null);
        }

        // The rest are in no book. Every book entry was matched to its order above, so only an order in a
        // book phase can be in a book; counting them tells whether each of those was matched.
        var indexed = count;
        var inBookPhase = 0;
        foreach (var order in _orders.Values)
        {
            if (order.Phase is OrderPhase.Waiting or OrderPhase.Trailing or OrderPhase.Resting
                || (order.Phase == OrderPhase.AwaitingActivation && order.Spec.ActivationPrice is not null))
            {
                inBookPhase++;
                continue;
            }

            orders[count++] = SnapshotOf(order, null);
        }

        if (inBookPhase != indexed)
        {
            // Some order waits in a phase whose book does not hold it (a domain bug): keep it as it is.
            foreach (var order in _orders.Values)
            {
                if (order.Phase is not (OrderPhase.Waiting or OrderPhase.Trailing or OrderPhase.Resting or OrderPhase.AwaitingActivation)
                    || (order.Phase == OrderPhase.AwaitingActivation && order.Spec.ActivationPrice is null))
                    continue;
                var source = order.Phase == OrderPhase.Resting ? TriggerSource.Index : order.Spec.TriggerBy;
                if (_books.TryGetValue((order.Symbol, source), out var book) && book.Contains(order.Number)) continue;
                orders[count++] = SnapshotOf(order, null);
            }
        }

        if (count != orders.Length) throw OutOfStep($"{orders.Length - count} orders could not be placed in or out of the books");

        var accounts = new AccountSnapshot[_accounts.Count];
        var a = 0;
        foreach (var account in _accounts.Values) accounts[a++] = SnapshotOf(account, levelRanks);

        var children = new OrderChildren[_children.Count];
        var c = 0;
        foreach (var (parent, list) in _children) children[c++] = new OrderChildren(parent, list.ToArray());

        var expiries = new ExpiryEntry[_expiries.Count];
        var x = 0;
        foreach (var (number, at) in _expiries.UnorderedItems) expiries[x++] = new ExpiryEntry(number, at);

        return new ShardSnapshot
        {
            NextOrderNumber = NextOrderNumber,
            NextFillNumber = NextFillNumber,
            NextPositionKey = NextPositionKey,
            Accounts = accounts,
            Orders = orders,
            IndexedOrders = indexed,
            Children = children,
            Expiries = expiries,
            Plans = CapturePlans(),
            Halts = _halts.OrderBy(h => h.Key, StringComparer.Ordinal).Select(h => new SymbolHaltEntry(h.Key, h.Value.Reason, h.Value.Since, h.Value.Until)).ToArray(),
            Confirmations = _confirming.OrderBy(c => c.Value.Until.UtcTicks).ThenBy(c => c.Key).Select(c => new ConfirmationEntry(c.Key, c.Value.Price, c.Value.Until)).ToArray(),
            Strategies = CaptureStrategies(),
            Subscriptions = CaptureSubscriptions(),
        };
    }

    /// <summary>
    /// A shard rebuilt from <paramref name="snapshot"/>: the same state and, given the same prices, the
    /// same decisions as the shard it was captured from. The trigger books are rebuilt in their original
    /// insertion order. <paramref name="options"/> should be those the snapshot was taken under.
    /// </summary>
    /// <exception cref="InvalidDataException">The snapshot contradicts itself or names an unknown instrument.</exception>
    internal static ShardGrains Restore(ShardSnapshot snapshot, InstrumentCatalog instruments, IExecutionVenue venue, ShardOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var shard = new ShardGrains(instruments, venue, options);
        shard.Load(snapshot);
        return shard;
    }

    /// <summary>
    /// Sets a price without evaluating any book. For tests that run a restored shard side by side with
    /// the one it was captured from; a restarted engine gets its prices through <see cref="OnPrices"/>.
    /// </summary>
    internal void PrimeQuote(string symbol, Quote quote) => _quotes[symbol] = quote;


    /// <summary>A book's entries in insertion order.</summary>
    internal static List<TriggerBookEntry> EntriesOf(TriggerBook book) => TriggerBook.EntriesOf(book);

    private static InvalidOperationException OutOfStep(string detail) =>
        new($"cannot snapshot the shard: its trigger books and orders are out of step: {detail}");

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static OrderSnapshot SnapshotOf(Order o, decimal? extreme)
    {
        var s = o.Spec;
        var asAccepted = SameBits(o.Quantity, s.Quantity) && SameBits(o.Price, s.Price) && SameBits(o.TriggerPrice, s.TriggerPrice)
            && SameBits(o.CallbackRate, s.CallbackRate) && SameBits(o.CallbackAmount, s.CallbackAmount)
            && SameBits(o.FilledQuantity, 0m) && SameBits(o.AverageFillPrice, 0m)
            && o.TriggeredPrice is null && o.TriggeredAt is null && o.Reason is null;
        var progress = asAccepted
            ? null
            : new OrderProgress(o.Quantity, o.Price, o.TriggerPrice, o.CallbackRate, o.CallbackAmount, o.FilledQuantity, o.AverageFillPrice,
                o.TriggeredPrice, o.TriggeredAt, o.Reason);
        return new OrderSnapshot(o.Account, s, o.Status, o.Phase, o.CreatedAt, o.UpdatedAt, extreme, progress);
    }

    /// <summary>Equal to the bit, scale and sign of zero included (1.5 and 1.50 are not the same).</summary>
    internal static bool SameBits(decimal a, decimal b) => a == b && a.Scale == b.Scale && decimal.IsNegative(a) == decimal.IsNegative(b);

    internal static bool SameBits(decimal? a, decimal? b) => a is { } x ? b is { } y && SameBits(x, y) : b is null;

    private static AccountSnapshot SnapshotOf(Account account, Dictionary<long, int> levelRanks)
    {
        var buckets = new BucketSnapshot[account.Buckets.Count];
        for (var i = 0; i < buckets.Length; i++)
        {
            var bucket = account.Buckets[i];
            var positions = new PositionSnapshot[bucket.Positions.Count];
            var p = 0;
            foreach (var position in bucket.Positions.Values)
            {
                positions[p++] = new PositionSnapshot(
                    position.Key,
                    position.Symbol,
                    position.Quantity,
                    position.EntryPrice,
                    position.Leverage,
                    position.Margin,
                    position.LiquidationPrice,
                    levelRanks.GetValueOrDefault(position.Key, -1));
            }

            var leverage = new LeverageSetting[bucket.Leverage.Count];
            var l = 0;
            foreach (var (symbol, value) in bucket.Leverage) leverage[l++] = new LeverageSetting(symbol, value);
            buckets[i] = new BucketSnapshot
            {
                Id = bucket.Id,
                Name = bucket.Name,
                Kind = bucket.Kind,
                Balance = bucket.Balance,
                RealizedPnl = bucket.RealizedPnl,
                Positions = positions,
                Leverage = leverage,
                KillSwitch = bucket.KillSwitch,
                DailyLossLimit = bucket.DailyLossLimit,
                LossBaseline = bucket.LossBaseline,
                LossDay = bucket.LossDay,
                LossLocked = bucket.LossLocked,
            };
        }

        // Each mapping is queued when it is made and unmapped when it leaves the queue, so the queue
        // (in order) with each entry's mapping is the whole state.
        var clientIds = new ClientIdEntry[account.ClientOrderIdOrder.Count];
        var c = 0;
        var mappedIds = 0;
        foreach (var id in account.ClientOrderIdOrder)
        {
            if (account.ClientOrderIds.TryGetValue(id, out var mapped))
            {
                clientIds[c++] = new ClientIdEntry(id, true, mapped.Order, mapped.BodyHash);
                mappedIds++;
            }
            else
            {
                clientIds[c++] = new ClientIdEntry(id, false, 0, null);
            }
        }

        if (mappedIds != account.ClientOrderIds.Count && !account.ClientOrderIds.Keys.ToHashSet().IsSubsetOf(account.ClientOrderIdOrder))
            throw OutOfStep($"account {account.Id} maps a client id it does not queue");

        var idempotency = new IdempotencyEntry[account.IdempotencyOrder.Count];
        var k = 0;
        var mappedKeys = 0;
        foreach (var key in account.IdempotencyOrder)
        {
            var response = account.Idempotency.GetValueOrDefault(key);
            if (response is not null) mappedKeys++;
            idempotency[k++] = new IdempotencyEntry(key, response);
        }

        if (mappedKeys != account.Idempotency.Count && !account.Idempotency.Keys.ToHashSet().IsSubsetOf(account.IdempotencyOrder))
            throw OutOfStep($"account {account.Id} maps an idempotency key it does not queue");

        return new AccountSnapshot
        {
            Id = account.Id,
            Name = account.Name,
            ApiKeyHash = account.ApiKeyHash,
            WalletBalance = account.WalletBalance,
            ManualBucket = account.ManualBucket,
            BucketCount = account.BucketCount,
            ListCount = account.ListCount,
            EventSequence = account.EventSequence,
            Buckets = buckets,
            RecentDoneOrders = account.RecentDoneOrders.ToArray(),
            ClientOrderIds = clientIds,
            Lists = account.Lists.Values.ToArray(),
            Idempotency = idempotency,
            Fills = account.Fills.Capture(),
            Events = account.Events.ToArray(),
            KillSwitch = account.KillSwitch,
            CancelAllAfter = account.CancelAllAfter,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Load(ShardSnapshot s)
    {
        if (_accounts.Count != 0 || _orders.Count != 0) throw new InvalidOperationException("a snapshot restores into an empty shard only");
        NextOrderNumber = s.NextOrderNumber;
        NextFillNumber = s.NextFillNumber;
        NextPositionKey = s.NextPositionKey;

        var levels = new List<(int Rank, Position Position)>();
        foreach (var a in s.Accounts)
        {
            var loaded = LoadAccount(a, levels);
            if (!_accounts.TryAdd(loaded.Id, loaded)) throw Corrupt($"account {a.Id} appears twice");
        }

        levels.Sort((x, y) => x.Rank.CompareTo(y.Rank));
        if (s.IndexedOrders < 0 || s.IndexedOrders > s.Orders.Length) throw Corrupt($"{s.IndexedOrders} indexed orders out of {s.Orders.Length}");

        // Live, an order and its orderAccepted event in the account's history share one spec; read back
        // from a snapshot they are two equal copies. Sharing them again keeps a recovered shard as small
        // as the live one was.
        var acceptedSpecs = new Dictionary<long, OrderSpec>();
        foreach (var a in _accounts.Values)
            foreach (var e in a.Events)
                if (e.Event is OrderAccepted accepted)
                    acceptedSpecs[accepted.Order.Number] = accepted.Order;

        _orders.EnsureCapacity(s.Orders.Length);
        var rank = 0;
        var next = 0;
        Account? account = null;
        string? lastSymbol = null;
        for (var i = 0; i < s.Orders.Length; i++)
        {
            ref readonly var o = ref s.Orders[i];
            if (account is null || (!ReferenceEquals(account.Id.Value, o.Account.Value) && account.Id != o.Account))
            {
                if (!_accounts.TryGetValue(o.Account, out account)) throw Corrupt($"order {o.Spec.Number} belongs to unknown account {o.Account}");
            }

            if (!ReferenceEquals(lastSymbol, o.Spec.Symbol))
            {
                if (Instruments.Find(o.Spec.Symbol) is null) throw Corrupt($"order {o.Spec.Number} trades {o.Spec.Symbol}, which is not an instrument");
                lastSymbol = o.Spec.Symbol;
            }

            var spec = acceptedSpecs.TryGetValue(o.Spec.Number, out var shared) && shared.Equals(o.Spec) ? shared : o.Spec;
            var order = new Order(o.Account, spec, o.Status, o.Phase, o.CreatedAt) { UpdatedAt = o.UpdatedAt };
            if (o.Progress is { } p)
            {
                // Only what differs from the spec: an order that only filled or ended keeps its small fill state.
                if (!SameBits(p.Quantity, spec.Quantity)) order.Quantity = p.Quantity;
                if (!SameBits(p.Price, spec.Price)) order.Price = p.Price;
                if (!SameBits(p.TriggerPrice, spec.TriggerPrice)) order.TriggerPrice = p.TriggerPrice;
                if (!SameBits(p.CallbackRate, spec.CallbackRate)) order.CallbackRate = p.CallbackRate;
                if (!SameBits(p.CallbackAmount, spec.CallbackAmount)) order.CallbackAmount = p.CallbackAmount;
                if (p.TriggeredPrice is not null) order.TriggeredPrice = p.TriggeredPrice;
                if (p.TriggeredAt is not null) order.TriggeredAt = p.TriggeredAt;
                order.FilledQuantity = p.FilledQuantity;
                order.AverageFillPrice = p.AverageFillPrice;
                order.Reason = p.Reason;
            }

            if (!_orders.TryAdd(order.Number, order)) throw Corrupt($"order {order.Number} appears twice");
            if (order.IsLive)
            {
                account.LiveOrders.Add(order);
                if (IsWaitingExit(order.Spec))
                {
                    if (!_exits.TryGetValue((order.Bucket, order.Symbol), out var set)) _exits[(order.Bucket, order.Symbol)] = set = [];
                    set.Add(order.Number);
                }
            }

            if (i >= s.IndexedOrders) continue;
            while (next < levels.Count && levels[next].Rank == rank)
            {
                AddLevel(levels[next++].Position);
                rank++;
            }

            IndexRestored(order, o.TrailingExtreme);
            rank++;
        }

        while (next < levels.Count && levels[next].Rank == rank)
        {
            AddLevel(levels[next++].Position);
            rank++;
        }

        if (next != levels.Count) throw Corrupt($"liquidation level rank {levels[next].Rank} does not fit the {rank} book entries before it");

        foreach (var (parent, children) in s.Children)
            if (!_children.TryAdd(parent, [.. children])) throw Corrupt($"children of order {parent} appear twice");
        var expiries = new (long, DateTimeOffset)[s.Expiries.Length];
        for (var i = 0; i < expiries.Length; i++) expiries[i] = (s.Expiries[i].Order, s.Expiries[i].At);
        // The entries are in heap order already, so the heapify that follows moves nothing.
        _expiries.EnqueueRange(expiries);
        LoadPlans(s.Plans);
        LoadCopy(s.Strategies, s.Subscriptions);
        RebuildRiskIndexes(s);
    }

    private Account LoadAccount(AccountSnapshot a, List<(int Rank, Position Position)> levels)
    {
        var account = new Account(a.Id, a.Name, a.ApiKeyHash)
        {
            WalletBalance = a.WalletBalance,
            ManualBucket = a.ManualBucket,
            BucketCount = a.BucketCount,
            ListCount = a.ListCount,
            EventSequence = a.EventSequence,
            KillSwitch = a.KillSwitch,
            CancelAllAfter = a.CancelAllAfter,
        };
        foreach (var b in a.Buckets)
        {
            var bucket = new Bucket(b.Id, b.Name, b.Kind)
            {
                Balance = b.Balance,
                RealizedPnl = b.RealizedPnl,
                KillSwitch = b.KillSwitch,
                DailyLossLimit = b.DailyLossLimit,
                LossBaseline = b.LossBaseline,
                LossDay = b.LossDay,
                LossLocked = b.LossLocked,
            };
            foreach (var p in b.Positions)
            {
                if (Instruments.Find(p.Symbol) is null) throw Corrupt($"a position in bucket {b.Id} trades {p.Symbol}, which is not an instrument");
                var position = new Position(p.Key, b.Id, p.Symbol)
                {
                    Quantity = p.Quantity,
                    EntryPrice = p.EntryPrice,
                    Leverage = p.Leverage,
                    Margin = p.Margin,
                    LiquidationPrice = p.LiquidationPrice,
                };
                if (!bucket.Positions.TryAdd(p.Symbol, position) || !_positionsByKey.TryAdd(p.Key, position))
                    throw Corrupt($"position {p.Key} ({b.Id} {p.Symbol}) appears twice");
                if (p.LevelRank >= 0)
                {
                    if (p.LiquidationPrice is null) throw Corrupt($"position {p.Key} has a liquidation level but no liquidation price");
                    levels.Add((p.LevelRank, position));
                }
            }

            foreach (var (symbol, leverage) in b.Leverage) bucket.Leverage[symbol] = leverage;
            account.Buckets.Add(bucket);
        }

        foreach (var number in a.RecentDoneOrders) account.RecentDoneOrders.Enqueue(number);
        foreach (var entry in a.ClientOrderIds)
        {
            account.ClientOrderIdOrder.Enqueue(entry.ClientId);
            if (entry.Mapped) account.ClientOrderIds[entry.ClientId] = (entry.Order, entry.BodyHash);
        }

        foreach (var list in a.Lists)
            if (!account.Lists.TryAdd(list.Id.Value, list)) throw Corrupt($"list {list.Id} appears twice");
        foreach (var entry in a.Idempotency)
        {
            account.IdempotencyOrder.Enqueue(entry.Key);
            if (entry.Response is { } response) account.Idempotency[entry.Key] = response;
        }

        foreach (var fill in a.Fills) account.Fills.Add(fill, Options.FillHistory);
        foreach (var e in a.Events) account.Events.Add(e, Options.EventHistory);
        return account;
    }

    private void AddLevel(Position position) =>
        Book(position.Symbol, TriggerSource.Mark).AddLevel(
            -position.Key, position.Quantity > 0 ? TriggerDirection.Fall : TriggerDirection.Rise, position.LiquidationPrice!.Value);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void IndexRestored(Order order, decimal? extreme)
    {
        switch (order.Phase)
        {
            case OrderPhase.Trailing:
                var x = extreme ?? throw Corrupt($"trailing stop {order.Number} has no extreme");
                Book(order.Symbol, order.Spec.TriggerBy).AddTrailing(order.Number, order.FireDirection, order.CallbackRate, order.CallbackAmount, x);
                break;
            case OrderPhase.Waiting or OrderPhase.Resting:
            case OrderPhase.AwaitingActivation when order.Spec.ActivationPrice is not null:
                Index(order);
                break;
            default:
                throw Corrupt($"order {order.Number} is listed as indexed but is {order.Phase}");
        }
    }

    private static InvalidDataException Corrupt(string detail) => new($"inconsistent shard snapshot: {detail}");
}
