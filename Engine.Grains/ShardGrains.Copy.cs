using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains;

/// <summary>
/// Copy trading. A strategy lives with its leader's account: every fill in its bucket (and every
/// take-profit or stop-loss placed, amended or ended there) emits a signal, journaled with the fill
/// itself, so a signal exists exactly when its fill does. The runtime delivers each signal to the shards
/// of the followers; there each subscription turns it into its own order and records exactly one
/// outcome, which moves its last-applied sequence: a re-delivered signal changes nothing. The follower
/// shard's acknowledgment, journaled by the leader's shard, empties the outbox.
/// </summary>
public sealed partial class ShardGrains
{
    public const int MaxStrategyDescription = 500;
    public const int MaxCopySymbols = 100;

    private readonly Dictionary<StrategyId, Strategy> _strategies = [];
    private readonly Dictionary<AccountId, List<Strategy>> _accountStrategies = [];
    /// <summary>Active strategies by the bucket they watch.</summary>
    private readonly Dictionary<BucketId, Strategy> _strategyByBucket = [];
    private readonly Dictionary<SubscriptionId, Subscription> _subscriptions = [];
    private readonly Dictionary<AccountId, List<Subscription>> _accountSubscriptions = [];

    /// <summary>One mirrored copy: what it did, and why when it did not copy everything.</summary>
    private readonly record struct Mirrored(CopyOutcome Outcome, string? Reason, decimal Quantity, long? Order);

    public IEnumerable<Strategy> Strategies => _strategies.Values;
    public IEnumerable<Subscription> Subscriptions => _subscriptions.Values;

    public Strategy? FindStrategy(StrategyId id) => _strategies.GetValueOrDefault(id);

    public IReadOnlyList<Strategy> StrategiesOf(AccountId account) => _accountStrategies.TryGetValue(account, out var s) ? s : [];

    public Subscription? FindSubscription(AccountId account, SubscriptionId id) =>
        _subscriptions.TryGetValue(id, out var s) && s.Account == account ? s : null;

    public IReadOnlyList<Subscription> SubscriptionsOf(AccountId account) => _accountSubscriptions.TryGetValue(account, out var s) ? s : [];

    /// <summary>
    /// Where a journaled signal still has to go: for each follower shard that has not acknowledged it, the
    /// followers there that get it (registered before the signal). Recomputed from the strategy, so a
    /// re-delivery after a restart reaches the same followers.
    /// </summary>
    public IReadOnlyList<(int Shard, SubscriptionId[] Subscriptions)> CopyDeliveries(StrategyId id, long sequence)
    {
        if (!_strategies.TryGetValue(id, out var strategy) || !strategy.Outbox.TryGetValue(sequence, out var pending)) return [];
        var result = new List<(int, SubscriptionId[])>(pending.Shards.Count);
        foreach (var shard in pending.Shards)
        {
            var subs = new List<SubscriptionId>();
            if (strategy.ByShard.TryGetValue(shard, out var followers))
                foreach (var f in followers)
                    if (f.AfterSequence < sequence) subs.Add(f.Subscription);
            result.Add((shard, subs.ToArray()));
        }

        return result;
    }

    // ---- leader side: commands ----

    private CommandResult Decide(PublishStrategy c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (account.FindBucket(c.Bucket) is not { } bucket) return Reject(Rejection.NotFound("bucket not found"));
        if (string.IsNullOrWhiteSpace(c.Name) || c.Name.Length > 100)
            return Reject(Rejection.Invalid("invalid_name", "name must be 1 to 100 characters"));
        if (c.Description is { Length: > MaxStrategyDescription })
            return Reject(Rejection.Invalid("invalid_description", $"description must be at most {MaxStrategyDescription} characters"));
        if (bucket.Kind == BucketKind.Copy)
            return Reject(Rejection.Business("bucket_not_allowed", "a copy bucket follows a strategy; it cannot publish one"));
        if (_strategyByBucket.ContainsKey(bucket.Id))
            return Reject(Rejection.Business("strategy_exists", "the bucket already has an active strategy"));
        var id = StrategyId.For(account.Id, StrategiesOf(account.Id).Count + 1);
        Emit(new StrategyPublished(id, bucket.Id, c.Name.Trim(), c.Description) { At = _now, Account = account.Id });
        return Ok(id);
    }

    private CommandResult Decide(CloseStrategy c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (_strategies.GetValueOrDefault(c.Strategy) is not { } strategy || strategy.Leader != account.Id)
            return Reject(Rejection.NotFound("strategy not found"));
        if (strategy.Status == StrategyStatus.Closed) return Reject(Rejection.Business("strategy_closed", "the strategy is closed"));
        Emit(new StrategyClosed(strategy.Id, c.ClosePositions) { At = _now, Account = account.Id });
        return Ok(strategy.Id);
    }

    private CommandResult Decide(AddCopyFollower c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (_strategies.GetValueOrDefault(c.Strategy) is not { } strategy || strategy.Leader != account.Id)
            return Reject(Rejection.NotFound("strategy not found"));
        if (strategy.Followers.ContainsKey(c.Subscription)) return Ok(strategy.Id);
        if (strategy.Status == StrategyStatus.Closed) return Reject(Rejection.Business("strategy_closed", "the strategy is closed"));
        Emit(new CopyFollowerAdded(strategy.Id, c.Subscription, c.Follower, c.Shard, c.Allocation, strategy.LastSequence) { At = _now, Account = account.Id });
        return Ok(strategy.Id);
    }

    private CommandResult Decide(RemoveCopyFollower c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (_strategies.GetValueOrDefault(c.Strategy) is not { } strategy || strategy.Leader != account.Id)
            return Reject(Rejection.NotFound("strategy not found"));
        if (strategy.Followers.ContainsKey(c.Subscription))
            Emit(new CopyFollowerRemoved(strategy.Id, c.Subscription) { At = _now, Account = account.Id });
        return Ok(strategy.Id);
    }

    private CommandResult Decide(AcknowledgeCopySignal c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        // A repeated acknowledgment (a re-delivery after a restart) finds nothing pending: nothing to journal.
        if (_strategies.GetValueOrDefault(c.Strategy) is { } strategy && strategy.Outbox.TryGetValue(c.Sequence, out var pending)
            && pending.Shards.Contains(c.Shard))
            Emit(new CopySignalAcknowledged(strategy.Id, c.Sequence, c.Shard) { At = _now, Account = account.Id });
        return Ok(null);
    }

    // ---- leader side: signals ----

    /// <summary>The active strategy an event of a leader's bucket must be mirrored by, or null.</summary>
    private Strategy? MirroredBy(AccountEvent e)
    {
        switch (e)
        {
            case OrderFilled f:
                return _orders.TryGetValue(f.Order, out var filled) ? _strategyByBucket.GetValueOrDefault(filled.Bucket) : null;
            case PositionLiquidated l:
                return _strategyByBucket.GetValueOrDefault(l.Bucket);
            case OrderAccepted a when IsProtection(a.Order) && a.Phase != OrderPhase.Pending:
                return _strategyByBucket.GetValueOrDefault(a.Order.Bucket);
            case OrderActivated act when _orders.TryGetValue(act.Order, out var armed) && IsProtection(armed.Spec):
                return _strategyByBucket.GetValueOrDefault(armed.Bucket);
            case OrderAmended am:
                return ProtectionOwner(am.Order);
            case OrderCancelled x:
                return ProtectionOwner(x.Order);
            case OrderExpired x:
                return ProtectionOwner(x.Order);
            case OrderRejected x:
                return ProtectionOwner(x.Order);
            default:
                return null;
        }
    }

    private Strategy? ProtectionOwner(long order) =>
        _orders.TryGetValue(order, out var o) && _strategyByBucket.GetValueOrDefault(o.Bucket) is { } s && s.Protections.Contains(order) ? s : null;

    /// <summary>A take-profit or stop-loss that only closes: what followers copy with copyTakeProfitStopLoss.</summary>
    private static bool IsProtection(OrderSpec spec) =>
        spec.Type is OrderType.Stop or OrderType.StopLimit or OrderType.TakeProfit or OrderType.TakeProfitLimit
        && (spec.ReduceOnly || spec.ClosePosition);

    /// <summary>Applies a leader event, then emits the strategy's signal for it.</summary>
    private void EmitMirrored(Strategy strategy, AccountEvent e)
    {
        var bucket = AccountOf(strategy.Leader).FindBucket(strategy.Bucket)!;
        switch (e)
        {
            case OrderFilled f:
            {
                var order = _orders[f.Order];
                var before = bucket.Positions.TryGetValue(order.Symbol, out var held) ? held.Quantity : 0m;
                var equity = EquityOf(bucket);
                Apply(e);
                _out.Add(e);
                var after = bucket.Positions.TryGetValue(order.Symbol, out var now) ? now : null;
                EmitSignal(strategy, new CopySignal
                {
                    Sequence = 0,
                    Kind = CopySignalKind.Fill,
                    Symbol = order.Symbol,
                    Side = order.Side,
                    Quantity = f.Quantity,
                    Price = f.Price,
                    PositionBefore = before,
                    PositionAfter = after?.Quantity ?? 0m,
                    LeaderEquity = equity,
                    Leverage = after?.Leverage ?? LeverageOf(bucket, order.Symbol),
                    RealizedPnl = f.RealizedPnl,
                    Fee = f.Fee,
                    LeaderOrder = order.Number,
                    OrderType = order.Type,
                });
                return;
            }

            case PositionLiquidated l:
            {
                var equity = EquityOf(bucket);
                Apply(e);
                _out.Add(e);
                EmitSignal(strategy, new CopySignal
                {
                    Sequence = 0,
                    Kind = CopySignalKind.Fill,
                    Symbol = l.Symbol,
                    Side = l.Quantity > 0m ? OrderSide.Sell : OrderSide.Buy,
                    Quantity = Math.Abs(l.Quantity),
                    Price = l.Price,
                    PositionBefore = l.Quantity,
                    PositionAfter = 0m,
                    LeaderEquity = equity,
                    Leverage = LeverageOf(bucket, l.Symbol),
                    RealizedPnl = l.RealizedPnl,
                    OrderType = OrderType.Market,
                });
                return;
            }
        }

        Apply(e);
        _out.Add(e);
        var number = e switch
        {
            OrderAccepted a => a.Order.Number,
            OrderActivated act => act.Order,
            OrderAmended am => am.Order,
            OrderCancelled x => x.Order,
            OrderExpired x => x.Order,
            OrderRejected x => x.Order,
            _ => throw new InvalidOperationException($"{e.GetType().Name} is not mirrored"),
        };
        var o = _orders[number];
        var kind = e switch
        {
            OrderAccepted or OrderActivated => CopySignalKind.ProtectionPlaced,
            OrderAmended => CopySignalKind.ProtectionAmended,
            _ => CopySignalKind.ProtectionCancelled,
        };
        // A placement that ended at once (rejected when armed) has nothing for followers to copy.
        if (kind == CopySignalKind.ProtectionPlaced && !o.IsLive) return;
        EmitSignal(strategy, new CopySignal
        {
            Sequence = 0,
            Kind = kind,
            Symbol = o.Symbol,
            Side = o.Side,
            Quantity = o.Quantity,
            PositionBefore = bucket.Positions.TryGetValue(o.Symbol, out var p) ? p.Quantity : 0m,
            LeaderOrder = o.Number,
            OrderType = o.Type,
            TriggerPrice = o.TriggerPrice,
            LimitPrice = o.Price,
            TriggerBy = o.Spec.TriggerBy,
            ClosePosition = o.Spec.ClosePosition,
        });
    }

    private void EmitSignal(Strategy strategy, CopySignal signal)
    {
        var shardArray = new int[strategy.ByShard.Count];
        strategy.ByShard.Keys.CopyTo(shardArray, 0);
        Emit(new CopySignalEmitted(strategy.Id, signal with { Sequence = strategy.LastSequence + 1 }, shardArray) { At = _now, Account = strategy.Leader });
    }

    // ---- follower side: commands ----

    private CommandResult Decide(Subscribe c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (SeenClientId(account, c.ClientOrderId, c.ClientOrderId is { } cid ? SubscriptionKey(cid) : null, c.BodyHash,
                static (g, a, n) => g.FindSubscription(a.Id, SubscriptionId.For(a.Id, n))?.Id) is { } seen) return seen;
        if (c.Allocation <= 0m || c.Allocation > MaxAmount)
            return Reject(Rejection.Invalid("invalid_allocation", "allocation must be greater than 0 and at most 1e12"));
        if (CopySettingsProblem(c.Settings) is { } bad) return Reject(bad);
        if (c.Leader == account.Id) return Reject(Rejection.Business("self_subscription", "an account cannot follow its own strategy"));
        if (c.Allocation > account.WalletBalance)
            return Reject(Rejection.Business("insufficient_balance", $"wallet holds {account.WalletBalance}"));
        var number = SubscriptionsOf(account.Id).Count + 1;
        var spec = new SubscriptionSpec
        {
            Id = SubscriptionId.For(account.Id, number),
            Strategy = c.Strategy,
            Leader = c.Leader,
            Bucket = BucketId.For(account.Id, account.BucketCount + 1),
            Allocation = c.Allocation,
            Settings = c.Settings with { Symbols = c.Settings.Symbols?.Select(s => InstrumentOf(s).Symbol).Distinct().ToArray() },
            ClientOrderId = c.ClientOrderId,
        };
        Emit(new BucketCreated(spec.Bucket, "copy " + c.Strategy.Value, BucketKind.Copy, c.Allocation) { At = _now, Account = account.Id });
        Emit(new CopySubscribed(spec, c.BodyHash) { At = _now, Account = account.Id });
        return Ok(spec.Id);
    }

    internal static string SubscriptionKey(string clientOrderId) => "@" + clientOrderId;

    private Rejection? CopySettingsProblem(CopySettings s)
    {
        if (!Enum.IsDefined(s.Mode)) return Rejection.Invalid("invalid_sizing", "sizing.mode must be equityRatio, fixedRatio or fixedNotional");
        if (!Enum.IsDefined(s.OnInsufficientMargin))
            return Rejection.Invalid("invalid_on_insufficient_margin", "onInsufficientMargin must be scaleDown or skip");
        switch (s.Mode)
        {
            case CopySizingMode.FixedRatio when s.Ratio is not { } ratio || ratio <= 0m || ratio > 1000m:
                return Rejection.Invalid("invalid_ratio", "sizing.ratio is required for fixedRatio: greater than 0 and at most 1000");
            case CopySizingMode.FixedNotional when s.Notional is not { } notional || notional <= 0m || notional > MaxAmount:
                return Rejection.Invalid("invalid_notional", "sizing.notional is required for fixedNotional: greater than 0 and at most 1e12");
        }

        if (s.Mode != CopySizingMode.FixedRatio && s.Ratio is not null)
            return Rejection.Invalid("invalid_ratio", "sizing.ratio goes with mode fixedRatio");
        if (s.Mode != CopySizingMode.FixedNotional && s.Notional is not null)
            return Rejection.Invalid("invalid_notional", "sizing.notional goes with mode fixedNotional");
        if (s.MaxLeverage is { } lev && (lev < 1 || lev > 200)) return Rejection.Invalid("invalid_max_leverage", "maxLeverage must be 1 to 200");
        if (s.MaxPositionNotional is { } max && (max <= 0m || max > MaxAmount))
            return Rejection.Invalid("invalid_max_position_notional", "maxPositionNotional must be greater than 0 and at most 1e12");
        if (s.SlippageLimit is { } slip && (slip < 0m || slip >= 1m))
            return Rejection.Invalid("invalid_slippage_limit", "slippageLimit must be a fraction from 0 to below 1");
        if (s.Symbols is { } symbols)
        {
            if (symbols.Length is 0 or > MaxCopySymbols)
                return Rejection.Invalid("invalid_symbols", $"symbols must list 1 to {MaxCopySymbols} symbols (leave it out to copy every symbol)");
            foreach (var symbol in symbols)
                if (string.IsNullOrEmpty(symbol) || Instruments.Find(symbol) is null) return Rejection.Invalid("unknown_symbol", $"unknown symbol {symbol}");
        }

        return null;
    }

    private CommandResult Decide(EndSubscription c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (FindSubscription(account.Id, c.Subscription) is not { } sub) return Reject(Rejection.NotFound("subscription not found"));
        if (sub.Status == SubscriptionStatus.Ended) return Reject(Rejection.Business("subscription_ended", "the subscription has ended"));
        var bucket = account.FindBucket(sub.Spec.Bucket)!;
        if (c.ClosePositions)
        {
            // All or nothing: every position must be closable now, or the subscription stays as it is.
            foreach (var position in bucket.Positions.Values.OrderBy(p => p.Symbol, StringComparer.Ordinal))
            {
                if (IsHalted(position.Symbol))
                    return Reject(Rejection.Business("symbol_halted", $"{position.Symbol} is halted: its position cannot be closed now"));
                if (QuoteOf(position.Symbol).Index is null)
                    return Reject(Rejection.Business("no_price", $"no price for {position.Symbol} to close at"));
            }
        }

        // A bucket kept as a manual one keeps its orders too (the copies of the leader's take-profits and
        // stop-losses go on protecting its positions, now on their own); a flattened one has none left.
        if (c.ClosePositions)
        {
            foreach (var number in account.LiveOrders.ToArray())
                if (_orders[number] is { IsLive: true } order && order.Bucket == bucket.Id)
                    Finish(order, new OrderCancelled(number, c.Reason) { At = _now, Account = account.Id });
            foreach (var position in bucket.Positions.Values.OrderBy(p => p.Symbol, StringComparer.Ordinal).ToArray())
            {
                var request = new OrderRequest
                {
                    Bucket = bucket.Id,
                    Symbol = position.Symbol,
                    Side = position.Quantity > 0 ? OrderSide.Sell : OrderSide.Buy,
                    Type = OrderType.Market,
                    Quantity = Math.Abs(position.Quantity),
                    ReduceOnly = true,
                };
                // Not through the kill switch's refusal: ending a subscription may always flatten its bucket.
                Accept(account, ToSpec(request, bucket.Id, NextOrderNumber), null);
            }

            if (bucket.Available > 0m)
                Emit(new FundsTransferred(bucket.Id, TransferDirection.Out, bucket.Available) { At = _now, Account = account.Id });
        }

        Emit(new CopySubscriptionEnded(sub.Id, c.ClosePositions, c.Reason) { At = _now, Account = account.Id });
        return Ok(sub.Id);
    }

    // ---- follower side: mirroring ----

    /// <summary>
    /// A signal of <paramref name="strategy"/> reaches this shard for <paramref name="subscriptions"/>: each
    /// active one that has not seen it yet records exactly one outcome (its order's events just before).
    /// Returns how many recorded one.
    /// </summary>
    public int OnCopySignal(StrategyId strategy, CopySignal signal, IReadOnlyList<SubscriptionId> subscriptions, DateTimeOffset now, List<EngineEvent> output)
    {
        _now = now;
        _out = output;
        // Found first, all of them: the lookups do not depend on each other, so the processor overlaps their
        // cache misses instead of waiting for each between two followers' mirrors.
        var found = new Subscription?[subscriptions.Count];
        for (var i = 0; i < found.Length; i++) found[i] = _subscriptions.GetValueOrDefault(subscriptions[i]);
        var recorded = 0;
        foreach (var sub in found)
        {
            if (sub is null || sub.Status != SubscriptionStatus.Active || sub.Spec.Strategy != strategy || signal.Sequence <= sub.LastSequence) continue;
            var result = Mirror(sub, signal);
            Emit(new CopyOutcomeRecorded(sub.Id, signal.Sequence, signal.Kind, signal.Symbol, signal.Quantity, result.Quantity,
                result.Outcome, result.Reason, result.Order, signal.LeaderOrder) { At = _now, Account = sub.Account });
            recorded++;
            if (_lossLimited.Count != 0) CheckLossLimits(sub.Account);
        }

        return recorded;
    }

    private static Mirrored Skip(string reason) => new(CopyOutcome.Skipped, reason, 0m, null);

    private Mirrored Mirror(Subscription sub, CopySignal s)
    {
        var account = sub.Owner;
        var bucket = sub.Bucket;
        var settings = sub.Spec.Settings;
        if (s.Kind != CopySignalKind.Fill && !settings.CopyTakeProfitStopLoss) return Skip(CopyReasons.TakeProfitStopLossNotCopied);
        if (settings.Symbols is { } allowed && Array.IndexOf(allowed, s.Symbol) < 0) return Skip(CopyReasons.SymbolNotAllowed);
        if (LockReason(account, bucket) is not null) return Skip(CopyReasons.BucketLocked);
        return s.Kind switch
        {
            CopySignalKind.Fill => MirrorFillAtSomePrice(account, bucket, sub, s),
            CopySignalKind.ProtectionPlaced => MirrorProtection(account, bucket, s),
            CopySignalKind.ProtectionAmended => AmendProtection(account, bucket, sub, s),
            _ => CancelProtection(sub, s),
        };
    }

    /// <summary>
    /// A shard that has seen no price for the symbol since it started (a signal re-delivered after a
    /// restart comes before the first tick) mirrors at the leader's fill price, the newest price the engine
    /// knows, rather than skipping a signal the follower should get. Only for this one mirror.
    /// </summary>
    private Mirrored MirrorFillAtSomePrice(Account account, Bucket bucket, Subscription sub, CopySignal s)
    {
        if (QuoteOf(s.Symbol).Index is not null || s.Price <= 0m) return MirrorFill(account, bucket, sub, s);
        var had = _quotes.TryGetValue(s.Symbol, out var previous);
        _quotes[s.Symbol] = new Quote(previous.Last ?? s.Price, s.Price, previous.Mark ?? s.Price);
        try
        {
            return MirrorFill(account, bucket, sub, s);
        }
        finally
        {
            if (had) _quotes[s.Symbol] = previous;
            else _quotes.Remove(s.Symbol);
        }
    }

    /// <summary>
    /// A leader fill: the part that closes the leader's position closes the same fraction of the
    /// follower's; the part that opens (or flips) is sized by the follower's mode and limits. One market
    /// order does both.
    /// </summary>
    private Mirrored MirrorFill(Account account, Bucket bucket, Subscription sub, CopySignal s)
    {
        // The follower's copy of the leader's take-profit or stop-loss that just filled did (or does) the job.
        if (s.LeaderOrder is { } leaderOrder && sub.Protections.TryGetValue(leaderOrder, out var copyNumber) && _orders.TryGetValue(copyNumber, out var copy))
        {
            if (!copy.IsLive && copy.FilledQuantity > 0m) return new Mirrored(CopyOutcome.Copied, null, copy.FilledQuantity, copy.Number);
            if (copy.IsLive) Finish(copy, new OrderCancelled(copy.Number, CopyReasons.LeaderFilled) { At = _now, Account = account.Id });
        }

        if (IsHalted(s.Symbol)) return Skip(CopyReasons.SymbolHalted);
        var instrument = InstrumentOf(s.Symbol);
        var settings = sub.Spec.Settings;
        var held = bucket.Positions.TryGetValue(s.Symbol, out var position) ? position.Quantity : 0m;
        var sign = s.Side.Sign();
        var closingLeader = s.PositionBefore != 0m && Math.Sign(s.PositionBefore) == -sign ? Math.Min(s.Quantity, Math.Abs(s.PositionBefore)) : 0m;
        var openingLeader = s.Quantity - closingLeader;

        var close = 0m;
        string? reason = null;
        var scaled = false;
        if (closingLeader > 0m && held != 0m && Math.Sign(held) == Math.Sign(s.PositionBefore))
        {
            var fraction = closingLeader / Math.Abs(s.PositionBefore);
            close = fraction >= 1m ? Math.Abs(held) : instrument.FloorToLot(Math.Abs(held) * fraction);
            if (close < Math.Abs(held) && close < instrument.MinQuantity) close = 0m;
        }

        var heldAfterClose = Math.Abs(held) - close;
        var open = 0m;
        var desired = 0m;
        var leverage = LeverageOf(bucket, s.Symbol);
        if (openingLeader > 0m)
        {
            desired = settings.Mode switch
            {
                CopySizingMode.EquityRatio => s.LeaderEquity > 0m ? openingLeader * EquityOf(bucket) / s.LeaderEquity : 0m,
                CopySizingMode.FixedRatio => openingLeader * settings.Ratio!.Value,
                _ => s.Price > 0m ? settings.Notional!.Value / s.Price : 0m,
            };
            desired = instrument.FloorToLot(Math.Max(0m, desired));
            open = desired;
            // A fresh position takes the leader's leverage, capped by the follower's maximum; an open one keeps its own.
            var increasesHeld = heldAfterClose > 0m && Math.Sign(held) == sign;
            if (!increasesHeld)
                leverage = Math.Min(Math.Min(s.Leverage > 0 ? s.Leverage : leverage, settings.MaxLeverage ?? int.MaxValue), instrument.MaxLeverage);
            if (settings.MaxPositionNotional is { } maxNotional && s.Price > 0m)
            {
                var existing = increasesHeld ? heldAfterClose : 0m;
                var room = Math.Max(0m, instrument.FloorToLot(maxNotional / s.Price - existing));
                if (open > room)
                {
                    open = room;
                    reason = CopyReasons.MaxPositionNotional;
                }
            }
        }

        if (close == 0m && open == 0m)
        {
            if (openingLeader > 0m) return Skip(reason ?? CopyReasons.BelowMinimum);
            return Skip(held == 0m || Math.Sign(held) != Math.Sign(s.PositionBefore) ? CopyReasons.NoPosition : CopyReasons.BelowMinimum);
        }

        if (Venue.MarketFillPrice(instrument, s.Side, close + open, QuoteOf(s.Symbol)) is not { } price) return Skip(CopyReasons.NoPrice);
        if (open > 0m && settings.SlippageLimit is { } limit && s.Price > 0m && Math.Abs(price - s.Price) / s.Price > limit)
        {
            if (close == 0m) return Skip(CopyReasons.Slippage);
            open = 0m;
            reason = CopyReasons.Slippage;
        }

        if (open > 0m && (open < instrument.MinQuantity || open * price < instrument.MinNotional))
        {
            if (close == 0m) return Skip(reason ?? CopyReasons.BelowMinimum);
            open = 0m;
            reason ??= CopyReasons.BelowMinimum;
        }

        var spec = MarketSpec(bucket, s.Symbol, s.Side, close + open, reduceOnly: open == 0m);
        if (open > 0m && PlanFill(bucket, instrument, spec, close + open, price, instrument.TakerFeeRate, out _, leverage) is not null)
        {
            var affordable = settings.OnInsufficientMargin == InsufficientMarginPolicy.ScaleDown
                ? LargestAffordable(bucket, instrument, s.Side, close, open, price, leverage)
                : 0m;
            if (affordable > 0m && (affordable < instrument.MinQuantity || affordable * price < instrument.MinNotional)) affordable = 0m;
            if (affordable == 0m && close == 0m) return Skip(CopyReasons.InsufficientMargin);
            open = affordable;
            reason = CopyReasons.InsufficientMargin;
            spec = MarketSpec(bucket, s.Symbol, s.Side, close + open, reduceOnly: open == 0m);
        }

        scaled = open < desired;
        if (open > 0m && leverage != LeverageOf(bucket, s.Symbol))
            Emit(new LeverageSet(bucket.Id, s.Symbol, leverage) { At = _now, Account = account.Id });
        Accept(account, spec, null);
        var order = _orders[spec.Number];
        if (order.Status != OrderStatus.Filled) return Skip(order.Reason ?? CopyReasons.NotCopied);
        return scaled || reason is not null
            ? new Mirrored(CopyOutcome.ScaledDown, reason, order.FilledQuantity, order.Number)
            : new Mirrored(CopyOutcome.Copied, null, order.FilledQuantity, order.Number);
    }

    // Built directly, not through an OrderRequest: a fan-out makes one per follower, and the request is the
    // largest object on that path.
    private OrderSpec MarketSpec(Bucket bucket, string symbol, OrderSide side, decimal quantity, bool reduceOnly) => new()
    {
        Number = NextOrderNumber,
        Bucket = bucket.Id,
        Symbol = symbol,
        Side = side,
        Type = OrderType.Market,
        Quantity = quantity,
        ReduceOnly = reduceOnly,
    };

    /// <summary>The largest opening quantity on the lot grid (with the closing part) the bucket can fund: a search over lots.</summary>
    private decimal LargestAffordable(Bucket bucket, Instrument instrument, OrderSide side, decimal close, decimal open, decimal price, int leverage)
    {
        long low = 0, high = (long)decimal.Floor(open / instrument.LotStep);
        while (low < high)
        {
            var mid = low + (high - low + 1) / 2;
            var quantity = close + mid * instrument.LotStep;
            var spec = MarketSpec(bucket, instrument.Symbol, side, quantity, reduceOnly: false);
            if (PlanFill(bucket, instrument, spec, quantity, price, instrument.TakerFeeRate, out _, leverage) is null) low = mid;
            else high = mid - 1;
        }

        return low * instrument.LotStep;
    }

    /// <summary>
    /// The follower's own reduce-only copy of the leader's take-profit or stop-loss: same type, trigger and
    /// limit; the quantity is the same fraction of the follower's position as the leader's order is of its own.
    /// </summary>
    private Mirrored MirrorProtection(Account account, Bucket bucket, CopySignal s)
    {
        var instrument = InstrumentOf(s.Symbol);
        var held = bucket.Positions.TryGetValue(s.Symbol, out var position) ? position.Quantity : 0m;
        if (held == 0m || Math.Sign(held) != -s.Side.Sign()) return Skip(CopyReasons.NoPosition);
        decimal? quantity = null;
        if (!s.ClosePosition)
        {
            var leaderHeld = Math.Abs(s.PositionBefore);
            var q = leaderHeld == 0m || s.Quantity >= leaderHeld ? Math.Abs(held) : instrument.FloorToLot(Math.Abs(held) * s.Quantity / leaderHeld);
            if (q < instrument.MinQuantity || q == 0m) return Skip(CopyReasons.BelowMinimum);
            quantity = q;
        }

        var request = new OrderRequest
        {
            Bucket = bucket.Id,
            Symbol = s.Symbol,
            Side = s.Side,
            Type = s.OrderType,
            Quantity = quantity,
            Price = s.LimitPrice,
            TriggerPrice = s.TriggerPrice,
            TriggerBy = s.TriggerBy,
            ReduceOnly = !s.ClosePosition,
            ClosePosition = s.ClosePosition,
        };
        if (Validate(account, request, out _, out _) is { } invalid) return Skip(invalid.Code);
        var spec = ToSpec(request, bucket.Id, NextOrderNumber);
        if (CheckPlacement(account, bucket, instrument, spec) is { } refused) return Skip(refused.Code);
        Accept(account, spec, null);
        return new Mirrored(CopyOutcome.Copied, null, quantity ?? Math.Abs(held), spec.Number);
    }

    private Mirrored AmendProtection(Account account, Bucket bucket, Subscription sub, CopySignal s)
    {
        if (s.LeaderOrder is not { } leaderOrder || !sub.Protections.TryGetValue(leaderOrder, out var number)
            || !_orders.TryGetValue(number, out var copy) || !copy.IsLive)
            return Skip(CopyReasons.NotCopied);
        var instrument = InstrumentOf(s.Symbol);
        decimal? quantity = null;
        if (!copy.Spec.ClosePosition && bucket.Positions.TryGetValue(s.Symbol, out var position) && s.PositionBefore != 0m)
        {
            var q = s.Quantity >= Math.Abs(s.PositionBefore)
                ? Math.Abs(position.Quantity)
                : instrument.FloorToLot(Math.Abs(position.Quantity) * s.Quantity / Math.Abs(s.PositionBefore));
            if (q >= instrument.MinQuantity && q != copy.Quantity) quantity = q;
        }

        var amend = new AmendOrder(number, quantity,
            copy.IsLimitType && s.LimitPrice != copy.Price ? s.LimitPrice : null,
            copy.Phase == OrderPhase.Waiting && s.TriggerPrice != copy.TriggerPrice ? s.TriggerPrice : null,
            null) { Account = account.Id };
        if (amend.Quantity is null && amend.Price is null && amend.TriggerPrice is null)
            return new Mirrored(CopyOutcome.Copied, null, copy.Quantity, number);
        var result = Decide(amend);
        return result.Rejection is { } r ? Skip(r.Code) : new Mirrored(CopyOutcome.Copied, null, copy.Quantity, number);
    }

    private Mirrored CancelProtection(Subscription sub, CopySignal s)
    {
        if (s.LeaderOrder is not { } leaderOrder || !sub.Protections.TryGetValue(leaderOrder, out var number)
            || !_orders.TryGetValue(number, out var copy) || !copy.IsLive)
            return Skip(CopyReasons.NotCopied);
        Finish(copy, new OrderCancelled(number, CopyReasons.LeaderCancelled) { At = _now, Account = sub.Account });
        return new Mirrored(CopyOutcome.Copied, null, copy.Quantity, number);
    }

    // ---- apply ----

    private void ApplyCopy(Account account, CopyEvent e)
    {
        switch (e)
        {
            case StrategyPublished p:
            {
                var strategy = new Strategy(p.Strategy, account.Id, p.Bucket, p.Name, p.Description, p.At);
                _strategies[strategy.Id] = strategy;
                if (!_accountStrategies.TryGetValue(account.Id, out var list)) _accountStrategies[account.Id] = list = [];
                list.Add(strategy);
                _strategyByBucket[strategy.Bucket] = strategy;
                break;
            }

            case StrategyClosed c:
            {
                var strategy = _strategies[c.Strategy];
                strategy.Status = StrategyStatus.Closed;
                strategy.ClosedAt = c.At;
                strategy.ClosedWithPositions = c.ClosePositions;
                _strategyByBucket.Remove(strategy.Bucket);
                break;
            }

            case CopyFollowerAdded f:
                _strategies[f.Strategy].AddFollower(new StrategyFollower(f.Subscription, f.Follower, f.Shard, f.Allocation, f.AfterSequence));
                break;
            case CopyFollowerRemoved r:
                _strategies[r.Strategy].RemoveFollower(r.Subscription);
                break;
            case CopySignalEmitted s:
            {
                var strategy = _strategies[s.Strategy];
                var signal = s.Signal;
                strategy.LastSequence = signal.Sequence;
                if (signal.Kind == CopySignalKind.Fill) strategy.Pnl += signal.RealizedPnl - signal.Fee;
                if (signal.LeaderOrder is { } order)
                {
                    if (signal.Kind == CopySignalKind.ProtectionPlaced) strategy.Protections.Add(order);
                    else if (signal.Kind == CopySignalKind.ProtectionCancelled
                             || (signal.Kind == CopySignalKind.Fill && !(_orders.TryGetValue(order, out var o) && o.IsLive)))
                        strategy.Protections.Remove(order);
                }

                if (s.Shards.Length > 0) strategy.Outbox[signal.Sequence] = new PendingSignal(signal, new SortedSet<int>(s.Shards));
                break;
            }

            case CopySignalAcknowledged a:
            {
                var strategy = _strategies[a.Strategy];
                if (strategy.Outbox.TryGetValue(a.Sequence, out var pending) && pending.Shards.Remove(a.Shard) && pending.Shards.Count == 0)
                    strategy.Outbox.Remove(a.Sequence);
                break;
            }

            case CopySubscribed s:
            {
                var sub = new Subscription(account, account.FindBucket(s.Spec.Bucket)!, s.Spec, s.At);
                _subscriptions[sub.Id] = sub;
                if (!_accountSubscriptions.TryGetValue(account.Id, out var list)) _accountSubscriptions[account.Id] = list = [];
                list.Add(sub);
                if (s.Spec.ClientOrderId is { } cid) RememberClientId(account, SubscriptionKey(cid), list.Count, s.BodyHash);
                break;
            }

            case CopyOutcomeRecorded o:
            {
                var sub = _subscriptions[o.Subscription];
                sub.LastSequence = Math.Max(sub.LastSequence, o.Sequence);
                // The event itself is the subscription's record of the outcome: one object per follower per signal.
                sub.Outcomes.Add(o, Options.CopyOutcomeHistory);
                if (o.LeaderOrder is { } leaderOrder)
                {
                    if (o.Kind == CopySignalKind.ProtectionPlaced && o.Outcome != CopyOutcome.Skipped && o.Order is { } copy) sub.Protections[leaderOrder] = copy;
                    else if (o.Kind is CopySignalKind.ProtectionCancelled or CopySignalKind.Fill) sub.Protections.Remove(leaderOrder);
                }

                break;
            }

            case CopySubscriptionEnded end:
            {
                var sub = _subscriptions[end.Subscription];
                sub.Status = SubscriptionStatus.Ended;
                sub.EndedAt = end.At;
                sub.EndReason = end.Reason;
                sub.ClosedPositions = end.ClosePositions;
                sub.Protections.Clear();
                if (!end.ClosePositions && account.FindBucket(sub.Spec.Bucket) is { } bucket) bucket.Kind = BucketKind.Manual;
                break;
            }
        }
    }

    // ---- snapshot and fingerprint ----

    private StrategySnapshot[] CaptureStrategies()
    {
        var result = new List<StrategySnapshot>(_strategies.Count);
        foreach (var list in _accountStrategies.Values)
            foreach (var s in list)
                result.Add(new StrategySnapshot
                {
                    Id = s.Id,
                    Leader = s.Leader,
                    Bucket = s.Bucket,
                    Name = s.Name,
                    Description = s.Description,
                    CreatedAt = s.CreatedAt,
                    Status = s.Status,
                    ClosedAt = s.ClosedAt,
                    ClosedWithPositions = s.ClosedWithPositions,
                    LastSequence = s.LastSequence,
                    Pnl = s.Pnl,
                    Followers = s.ByShard.Values.SelectMany(f => f).ToArray(),
                    Outbox = s.Outbox.Values.Select(p => new OutboxEntry(p.Signal, p.Shards.ToArray())).ToArray(),
                    Protections = s.Protections.ToArray(),
                });
        return result.ToArray();
    }

    private SubscriptionSnapshot[] CaptureSubscriptions()
    {
        var result = new List<SubscriptionSnapshot>(_subscriptions.Count);
        foreach (var list in _accountSubscriptions.Values)
            foreach (var s in list)
                result.Add(new SubscriptionSnapshot
                {
                    Account = s.Account,
                    Spec = s.Spec,
                    CreatedAt = s.CreatedAt,
                    Status = s.Status,
                    EndedAt = s.EndedAt,
                    EndReason = s.EndReason,
                    ClosedPositions = s.ClosedPositions,
                    LastSequence = s.LastSequence,
                    Protections = s.Protections.Select(p => new ProtectionLink(p.Key, p.Value)).ToArray(),
                    Outcomes = s.Outcomes.ToArray(),
                });
        return result.ToArray();
    }

    private void LoadCopy(StrategySnapshot[] strategies, SubscriptionSnapshot[] subscriptions)
    {
        foreach (var s in strategies)
        {
            if (!_accounts.TryGetValue(s.Leader, out var account)) throw Corrupt($"strategy {s.Id} belongs to unknown account {s.Leader}");
            if (account.FindBucket(s.Bucket) is null) throw Corrupt($"strategy {s.Id} watches unknown bucket {s.Bucket}");
            var strategy = new Strategy(s.Id, s.Leader, s.Bucket, s.Name, s.Description, s.CreatedAt)
            {
                Status = s.Status,
                ClosedAt = s.ClosedAt,
                ClosedWithPositions = s.ClosedWithPositions,
                LastSequence = s.LastSequence,
                Pnl = s.Pnl,
            };
            if (!_strategies.TryAdd(strategy.Id, strategy)) throw Corrupt($"strategy {s.Id} appears twice");
            if (!_accountStrategies.TryGetValue(s.Leader, out var list)) _accountStrategies[s.Leader] = list = [];
            list.Add(strategy);
            if (strategy.Status == StrategyStatus.Active && !_strategyByBucket.TryAdd(strategy.Bucket, strategy))
                throw Corrupt($"bucket {s.Bucket} has two active strategies");
            foreach (var f in s.Followers) strategy.AddFollower(f);
            foreach (var o in s.Outbox) strategy.Outbox[o.Signal.Sequence] = new PendingSignal(o.Signal, new SortedSet<int>(o.Shards));
            foreach (var p in s.Protections) strategy.Protections.Add(p);
        }

        foreach (var s in subscriptions)
        {
            if (!_accounts.TryGetValue(s.Account, out var account)) throw Corrupt($"subscription {s.Spec.Id} belongs to unknown account {s.Account}");
            if (account.FindBucket(s.Spec.Bucket) is not { } bucket) throw Corrupt($"subscription {s.Spec.Id} has unknown bucket {s.Spec.Bucket}");
            var sub = new Subscription(account, bucket, s.Spec, s.CreatedAt)
            {
                Status = s.Status,
                EndedAt = s.EndedAt,
                EndReason = s.EndReason,
                ClosedPositions = s.ClosedPositions,
                LastSequence = s.LastSequence,
            };
            if (!_subscriptions.TryAdd(sub.Id, sub)) throw Corrupt($"subscription {s.Spec.Id} appears twice");
            if (!_accountSubscriptions.TryGetValue(s.Account, out var list)) _accountSubscriptions[s.Account] = list = [];
            list.Add(sub);
            foreach (var p in s.Protections) sub.Protections[p.LeaderOrder] = p.Order;
            foreach (var o in s.Outcomes) sub.Outcomes.Add(o, Options.CopyOutcomeHistory);
        }
    }

    private void AppendCopy(System.Text.StringBuilder sb)
    {
        foreach (var s in _strategies.Values.OrderBy(s => s.Id.Value, StringComparer.Ordinal))
        {
            sb.Append("strategy ").Append(s.Id.Value).Append(" leader=").Append(s.Leader.Value).Append(" bucket=").Append(s.Bucket.Value)
                .Append(" name=").Append(s.Name).Append(" description=").Append(s.Description ?? "-").Append(" created=").Append(Time(s.CreatedAt))
                .Append(" status=").Append(s.Status).Append(" closed=").Append(Time(s.ClosedAt)).Append(' ').Append(s.ClosedWithPositions)
                .Append(" last=").Append(s.LastSequence).Append(" pnl=").Append(Num(s.Pnl))
                .Append(" protections=[").AppendJoin(',', s.Protections).Append("]\n");
            foreach (var (shard, followers) in s.ByShard)
                foreach (var f in followers)
                    sb.Append(s.Id.Value).Append(" follower ").Append(shard).Append(' ').Append(f.Subscription.Value).Append(' ').Append(f.Account.Value)
                        .Append(' ').Append(Num(f.Allocation)).Append(" after=").Append(f.AfterSequence).Append('\n');
            foreach (var p in s.Outbox.Values)
                sb.Append(s.Id.Value).Append(" outbox ").Append(System.Text.Json.JsonSerializer.Serialize(p.Signal, FingerprintJson))
                    .Append(" [").AppendJoin(',', p.Shards).Append("]\n");
        }

        foreach (var s in _subscriptions.Values.OrderBy(s => s.Id.Value, StringComparer.Ordinal))
        {
            sb.Append("subscription ").Append(s.Id.Value).Append(" account=").Append(s.Account.Value)
                .Append(" spec=").Append(System.Text.Json.JsonSerializer.Serialize(s.Spec, FingerprintJson))
                .Append(" created=").Append(Time(s.CreatedAt)).Append(" status=").Append(s.Status).Append(" ended=").Append(Time(s.EndedAt))
                .Append(' ').Append(s.EndReason ?? "-").Append(' ').Append(s.ClosedPositions).Append(" last=").Append(s.LastSequence)
                .Append(" protections=[").AppendJoin(',', s.Protections.Select(p => $"{p.Key}:{p.Value}")).Append("]\n");
            foreach (var o in s.Outcomes)
                sb.Append(s.Id.Value).Append(" outcome ").Append(System.Text.Json.JsonSerializer.Serialize(o, FingerprintJson)).Append('\n');
        }
    }
}
