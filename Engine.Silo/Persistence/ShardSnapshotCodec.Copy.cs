using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Silo.Persistence;

/// <remarks>
/// Copy trading, in the snapshot (format 5: strategies, then subscriptions, after the confirmations) and
/// as journal events (tags 42 to 50). A signal is a flags varint for its optional members, then its
/// members; a subscription spec likewise. The outcome event is the hot one (one per follower per
/// signal): fixed members first, optional ones behind a flags byte.
/// </remarks>
public static partial class ShardSnapshotCodec
{
    private const byte StrategyPublishedTag = 42;
    private const byte CopySubscriptionEndedTag = 50;

    // Signal flags.
    private const int SignalLeaderOrder = 1 << 0;
    private const int SignalTrigger = 1 << 1;
    private const int SignalLimit = 1 << 2;
    private const int SignalClosePosition = 1 << 3;

    // Settings flags.
    private const int SettingsRatio = 1 << 0;
    private const int SettingsNotional = 1 << 1;
    private const int SettingsMaxLeverage = 1 << 2;
    private const int SettingsMaxNotional = 1 << 3;
    private const int SettingsSlippage = 1 << 4;
    private const int SettingsSymbols = 1 << 5;
    private const int SettingsCopyProtections = 1 << 6;
    private const int SettingsClientId = 1 << 7;

    // Outcome flags.
    private const byte OutcomeReason = 1 << 0;
    private const byte OutcomeOrder = 1 << 1;
    private const byte OutcomeLeaderOrder = 1 << 2;

    private sealed partial class Writer
    {
        private void CopyEvent(CopyEvent e)
        {
            switch (e)
            {
                case StrategyPublished x:
                    Shared(x.Strategy.Value);
                    Shared(x.Bucket.Value);
                    w.Write(x.Name);
                    Optional(x.Description);
                    break;
                case StrategyClosed x:
                    Shared(x.Strategy.Value);
                    w.Write(x.ClosePositions);
                    break;
                case CopyFollowerAdded x:
                    Shared(x.Strategy.Value);
                    Shared(x.Subscription.Value);
                    Shared(x.Follower.Value);
                    Varint32(x.Shard);
                    Decimal(x.Allocation);
                    Varint(x.AfterSequence);
                    break;
                case CopyFollowerRemoved x:
                    Shared(x.Strategy.Value);
                    Shared(x.Subscription.Value);
                    break;
                case CopySignalEmitted x:
                    Shared(x.Strategy.Value);
                    Signal(x.Signal);
                    Shards(x.Shards);
                    break;
                case CopySignalAcknowledged x:
                    Shared(x.Strategy.Value);
                    Varint(x.Sequence);
                    Varint32(x.Shard);
                    break;
                case CopySubscribed x:
                    SubscriptionSpec(x.Spec);
                    Optional(x.BodyHash);
                    break;
                case CopyOutcomeRecorded x:
                    Shared(x.Subscription.Value);
                    Outcome(x, withTime: false);
                    break;
                case CopySubscriptionEnded x:
                    Shared(x.Subscription.Value);
                    w.Write(x.ClosePositions);
                    Shared(x.Reason);
                    break;
                default:
                    throw new NotSupportedException($"The shard snapshot codec cannot encode {e.GetType().Name}.");
            }
        }

        private void Shards(int[] shards)
        {
            Count(shards.Length);
            foreach (var s in shards) Varint32(s);
        }

        private void Signal(CopySignal s)
        {
            var flags = (s.LeaderOrder is null ? 0 : SignalLeaderOrder) | (s.TriggerPrice is null ? 0 : SignalTrigger)
                | (s.LimitPrice is null ? 0 : SignalLimit) | (s.ClosePosition ? SignalClosePosition : 0);
            Varint32(flags);
            Varint(s.Sequence);
            Enum((int)s.Kind);
            Shared(s.Symbol);
            Enum((int)s.Side);
            Decimal(s.Quantity);
            Decimal(s.Price);
            Decimal(s.PositionBefore);
            Decimal(s.PositionAfter);
            Decimal(s.LeaderEquity);
            Varint32(s.Leverage);
            Decimal(s.RealizedPnl);
            Decimal(s.Fee);
            Enum((int)s.OrderType);
            Enum((int)s.TriggerBy);
            if (s.LeaderOrder is { } order) Varint(order);
            if (s.TriggerPrice is { } trigger) Decimal(trigger);
            if (s.LimitPrice is { } limit) Decimal(limit);
        }

        private void SubscriptionSpec(SubscriptionSpec s)
        {
            var c = s.Settings;
            var flags = (c.Ratio is null ? 0 : SettingsRatio) | (c.Notional is null ? 0 : SettingsNotional) | (c.MaxLeverage is null ? 0 : SettingsMaxLeverage)
                | (c.MaxPositionNotional is null ? 0 : SettingsMaxNotional) | (c.SlippageLimit is null ? 0 : SettingsSlippage)
                | (c.Symbols is null ? 0 : SettingsSymbols) | (c.CopyTakeProfitStopLoss ? SettingsCopyProtections : 0)
                | (s.ClientOrderId is null ? 0 : SettingsClientId);
            Varint32(flags);
            Shared(s.Id.Value);
            Shared(s.Strategy.Value);
            Shared(s.Leader.Value);
            Shared(s.Bucket.Value);
            Decimal(s.Allocation);
            Enum((int)c.Mode);
            Enum((int)c.OnInsufficientMargin);
            if (c.Ratio is { } ratio) Decimal(ratio);
            if (c.Notional is { } notional) Decimal(notional);
            if (c.MaxLeverage is { } lev) Varint32(lev);
            if (c.MaxPositionNotional is { } max) Decimal(max);
            if (c.SlippageLimit is { } slip) Decimal(slip);
            if (c.Symbols is { } symbols)
            {
                Count(symbols.Length);
                foreach (var symbol in symbols) Shared(symbol);
            }

            if (s.ClientOrderId is { } cid) w.Write(cid);
        }

        private void Outcome(CopyOutcomeRecorded o, bool withTime)
        {
            var flags = (byte)((o.Reason is null ? 0 : OutcomeReason) | (o.Order is null ? 0 : OutcomeOrder) | (o.LeaderOrder is null ? 0 : OutcomeLeaderOrder));
            w.Write(flags);
            Varint(o.Sequence);
            Enum((int)o.Kind);
            Shared(o.Symbol);
            Decimal(o.LeaderQuantity);
            Decimal(o.Quantity);
            Enum((int)o.Outcome);
            if (o.Reason is { } reason) Shared(reason);
            if (o.Order is { } order) Varint(order);
            if (o.LeaderOrder is { } leaderOrder) Varint(leaderOrder);
            if (withTime) Time(o.At);
        }

        private void Strategy(StrategySnapshot s)
        {
            Shared(s.Id.Value);
            Shared(s.Leader.Value);
            Shared(s.Bucket.Value);
            w.Write(s.Name);
            Optional(s.Description);
            Time(s.CreatedAt);
            Enum((int)s.Status);
            OptionalTime(s.ClosedAt);
            w.Write(s.ClosedWithPositions);
            Varint(s.LastSequence);
            Decimal(s.Pnl);
            Count(s.Followers.Length);
            foreach (var f in s.Followers)
            {
                Shared(f.Subscription.Value);
                Shared(f.Account.Value);
                Varint32(f.Shard);
                Decimal(f.Allocation);
                Varint(f.AfterSequence);
            }

            Count(s.Outbox.Length);
            foreach (var o in s.Outbox)
            {
                Signal(o.Signal);
                Shards(o.Shards);
            }

            Numbers(s.Protections);
        }

        private void Subscription(SubscriptionSnapshot s)
        {
            Shared(s.Account.Value);
            SubscriptionSpec(s.Spec);
            Time(s.CreatedAt);
            Enum((int)s.Status);
            OptionalTime(s.EndedAt);
            Optional(s.EndReason);
            w.Write(s.ClosedPositions);
            Varint(s.LastSequence);
            Count(s.Protections.Length);
            foreach (var p in s.Protections)
            {
                Varint(p.LeaderOrder);
                Varint(p.Order);
            }

            Count(s.Outcomes.Length);
            foreach (var o in s.Outcomes) Outcome(o, withTime: true);
        }
    }

    private sealed partial class Reader
    {
        private AccountEvent CopyEvent(byte tag, DateTimeOffset at, AccountId account)
        {
            switch (tag)
            {
                case 42:
                    return new StrategyPublished(new StrategyId(SharedRequired()), new BucketId(SharedRequired()), r.ReadString(), Optional()) { At = at, Account = account };
                case 43:
                    return new StrategyClosed(new StrategyId(SharedRequired()), r.ReadBoolean()) { At = at, Account = account };
                case 44:
                    return new CopyFollowerAdded(new StrategyId(SharedRequired()), new SubscriptionId(SharedRequired()), new AccountId(SharedRequired()),
                        r.Read7BitEncodedInt(), Decimal(), r.Read7BitEncodedInt64()) { At = at, Account = account };
                case 45:
                    return new CopyFollowerRemoved(new StrategyId(SharedRequired()), new SubscriptionId(SharedRequired())) { At = at, Account = account };
                case 46:
                    return new CopySignalEmitted(new StrategyId(SharedRequired()), Signal(), Shards()) { At = at, Account = account };
                case 47:
                    return new CopySignalAcknowledged(new StrategyId(SharedRequired()), r.Read7BitEncodedInt64(), r.Read7BitEncodedInt()) { At = at, Account = account };
                case 48:
                    return new CopySubscribed(SubscriptionSpec(), Optional()) { At = at, Account = account };
                case 49:
                {
                    var sub = new SubscriptionId(SharedRequired());
                    return Outcome(withTime: false, at, sub, account);
                }

                case 50:
                    return new CopySubscriptionEnded(new SubscriptionId(SharedRequired()), r.ReadBoolean(), SharedRequired()) { At = at, Account = account };
                default:
                    throw Corrupt($"unknown event tag {tag}");
            }
        }

        private int[] Shards()
        {
            var shards = new int[Count()];
            for (var i = 0; i < shards.Length; i++) shards[i] = r.Read7BitEncodedInt();
            return shards;
        }

        private CopySignal Signal()
        {
            var flags = r.Read7BitEncodedInt();
            var sequence = r.Read7BitEncodedInt64();
            var kind = (CopySignalKind)r.ReadByte();
            var symbol = SharedRequired();
            var side = (OrderSide)r.ReadByte();
            var quantity = Decimal();
            var price = Decimal();
            var before = Decimal();
            var after = Decimal();
            var equity = Decimal();
            var leverage = r.Read7BitEncodedInt();
            var realized = Decimal();
            var fee = Decimal();
            var type = (OrderType)r.ReadByte();
            var triggerBy = (TriggerSource)r.ReadByte();
            return new CopySignal
            {
                Sequence = sequence,
                Kind = kind,
                Symbol = symbol,
                Side = side,
                Quantity = quantity,
                Price = price,
                PositionBefore = before,
                PositionAfter = after,
                LeaderEquity = equity,
                Leverage = leverage,
                RealizedPnl = realized,
                Fee = fee,
                OrderType = type,
                TriggerBy = triggerBy,
                LeaderOrder = (flags & SignalLeaderOrder) != 0 ? r.Read7BitEncodedInt64() : null,
                TriggerPrice = (flags & SignalTrigger) != 0 ? Decimal() : null,
                LimitPrice = (flags & SignalLimit) != 0 ? Decimal() : null,
                ClosePosition = (flags & SignalClosePosition) != 0,
            };
        }

        private SubscriptionSpec SubscriptionSpec()
        {
            var flags = r.Read7BitEncodedInt();
            var id = new SubscriptionId(SharedRequired());
            var strategy = new StrategyId(SharedRequired());
            var leader = new AccountId(SharedRequired());
            var bucket = new BucketId(SharedRequired());
            var allocation = Decimal();
            var mode = (CopySizingMode)r.ReadByte();
            var policy = (InsufficientMarginPolicy)r.ReadByte();
            var ratio = (flags & SettingsRatio) != 0 ? Decimal() : (decimal?)null;
            var notional = (flags & SettingsNotional) != 0 ? Decimal() : (decimal?)null;
            var maxLeverage = (flags & SettingsMaxLeverage) != 0 ? r.Read7BitEncodedInt() : (int?)null;
            var maxNotional = (flags & SettingsMaxNotional) != 0 ? Decimal() : (decimal?)null;
            var slippage = (flags & SettingsSlippage) != 0 ? Decimal() : (decimal?)null;
            string[]? symbols = null;
            if ((flags & SettingsSymbols) != 0)
            {
                symbols = new string[Count()];
                for (var i = 0; i < symbols.Length; i++) symbols[i] = SharedRequired();
            }

            var clientId = (flags & SettingsClientId) != 0 ? r.ReadString() : null;
            return new SubscriptionSpec
            {
                Id = id,
                Strategy = strategy,
                Leader = leader,
                Bucket = bucket,
                Allocation = allocation,
                ClientOrderId = clientId,
                Settings = new CopySettings
                {
                    Mode = mode,
                    OnInsufficientMargin = policy,
                    Ratio = ratio,
                    Notional = notional,
                    MaxLeverage = maxLeverage,
                    MaxPositionNotional = maxNotional,
                    SlippageLimit = slippage,
                    Symbols = symbols,
                    CopyTakeProfitStopLoss = (flags & SettingsCopyProtections) != 0,
                },
            };
        }

        private CopyOutcomeRecorded Outcome(bool withTime, DateTimeOffset at, SubscriptionId subscription, AccountId account)
        {
            var flags = r.ReadByte();
            var sequence = r.Read7BitEncodedInt64();
            var kind = (CopySignalKind)r.ReadByte();
            var symbol = SharedRequired();
            var leaderQuantity = Decimal();
            var quantity = Decimal();
            var outcome = (CopyOutcome)r.ReadByte();
            var reason = (flags & OutcomeReason) != 0 ? SharedRequired() : null;
            var order = (flags & OutcomeOrder) != 0 ? r.Read7BitEncodedInt64() : (long?)null;
            var leaderOrder = (flags & OutcomeLeaderOrder) != 0 ? r.Read7BitEncodedInt64() : (long?)null;
            return new CopyOutcomeRecorded(subscription, sequence, kind, symbol, leaderQuantity, quantity, outcome, reason, order, leaderOrder)
            {
                At = withTime ? Time() : at,
                Account = account,
            };
        }

        private StrategySnapshot Strategy()
        {
            var id = new StrategyId(SharedRequired());
            var leader = new AccountId(SharedRequired());
            var bucket = new BucketId(SharedRequired());
            var name = r.ReadString();
            var description = Optional();
            var created = Time();
            var status = (StrategyStatus)r.ReadByte();
            var closedAt = OptionalTime();
            var closedWithPositions = r.ReadBoolean();
            var last = r.Read7BitEncodedInt64();
            var pnl = Decimal();
            var followers = new StrategyFollower[Count()];
            for (var i = 0; i < followers.Length; i++)
                followers[i] = new StrategyFollower(new SubscriptionId(SharedRequired()), new AccountId(SharedRequired()), r.Read7BitEncodedInt(), Decimal(), r.Read7BitEncodedInt64());
            var outbox = new OutboxEntry[Count()];
            for (var i = 0; i < outbox.Length; i++) outbox[i] = new OutboxEntry(Signal(), Shards());
            return new StrategySnapshot
            {
                Id = id,
                Leader = leader,
                Bucket = bucket,
                Name = name,
                Description = description,
                CreatedAt = created,
                Status = status,
                ClosedAt = closedAt,
                ClosedWithPositions = closedWithPositions,
                LastSequence = last,
                Pnl = pnl,
                Followers = followers,
                Outbox = outbox,
                Protections = Numbers(),
            };
        }

        private SubscriptionSnapshot Subscription()
        {
            var account = new AccountId(SharedRequired());
            var spec = SubscriptionSpec();
            var created = Time();
            var status = (SubscriptionStatus)r.ReadByte();
            var ended = OptionalTime();
            var reason = Optional();
            var closed = r.ReadBoolean();
            var last = r.Read7BitEncodedInt64();
            var protections = new ProtectionLink[Count()];
            for (var i = 0; i < protections.Length; i++) protections[i] = new ProtectionLink(r.Read7BitEncodedInt64(), r.Read7BitEncodedInt64());
            var outcomes = new CopyOutcomeRecorded[Count()];
            for (var i = 0; i < outcomes.Length; i++) outcomes[i] = Outcome(withTime: true, default, spec.Id, account);
            return new SubscriptionSnapshot
            {
                Account = account,
                Spec = spec,
                CreatedAt = created,
                Status = status,
                EndedAt = ended,
                EndReason = reason,
                ClosedPositions = closed,
                LastSequence = last,
                Protections = protections,
                Outcomes = outcomes,
            };
        }
    }
}
