using Engine.Grains;
using Engine.Grains.Events;
using Engine.Grains.Orders;
using Engine.Grains.Plans;

namespace Engine.Silo.Persistence;

/// <remarks>
/// Plans, in the snapshot (format 3) and as journal events (tags 21 to 28). A plan is its account,
/// its spec (flags for the optional members, then the members present; durations as int64 ticks),
/// its state, the orders it follows (number, role, side) and its history lines (flags for the
/// optional members, then those present).
/// </remarks>
public static partial class ShardSnapshotCodec
{
    private const byte PlanCreatedTag = 21;
    private const byte PlanCancelledTag = 28;

    // Plan spec flags.
    private const int PlanOwnBucket = 1 << 0;
    private const int PlanCron = 1 << 1;
    private const int PlanTimeZone = 1 << 2;
    private const int PlanFlattenAfter = 1 << 3;
    private const int PlanRiskFraction = 1 << 4;
    private const int PlanQuantity = 1 << 5;
    private const int PlanTakeProfit = 1 << 6;

    // Plan history flags.
    private const int HistoryEventAt = 1 << 0;
    private const int HistoryNextEventAt = 1 << 1;
    private const int HistoryPrice = 1 << 2;
    private const int HistoryQuantity = 1 << 3;
    private const int HistoryOrder = 1 << 4;
    private const int HistoryRole = 1 << 5;
    private const int HistorySide = 1 << 6;
    private const int HistoryOrders = 1 << 7;
    private const int HistoryFee = 1 << 8;
    private const int HistoryRealized = 1 << 9;
    private const int HistoryReason = 1 << 10;

    private sealed partial class Writer
    {
        private void PlanEvent(PlanEvent e)
        {
            Shared(e.Plan.Value);
            switch (e)
            {
                case PlanCreated x:
                    PlanSpec(x.Spec);
                    Time(x.EventAt);
                    break;
                case PlanArmed x:
                    Time(x.EventAt);
                    Decimal(x.ReferencePrice);
                    Decimal(x.Quantity);
                    Shared(x.List.Value);
                    PlanOrders(x.Orders);
                    break;
                case PlanArmSkipped x:
                    Time(x.EventAt);
                    Shared(x.Reason);
                    break;
                case PlanDisarmed x:
                    Time(x.EventAt);
                    Numbers(x.Orders);
                    break;
                case PlanFlattened x:
                    Time(x.EventAt);
                    w.Write(x.Order.HasValue);
                    if (x.Order is { } order) Varint(order);
                    Decimal(x.Quantity);
                    Shared(x.Reason);
                    break;
                case PlanCompleted x:
                    Time(x.EventAt);
                    break;
                case PlanRescheduled x:
                    Time(x.EventAt);
                    Time(x.NextEventAt);
                    break;
                case PlanCancelled:
                    break;
                default:
                    throw new NotSupportedException($"The shard snapshot codec cannot encode {e.GetType().Name}.");
            }
        }

        private void PlanSpec(PlanSpec s)
        {
            var flags = 0;
            if (s.OwnBucket) flags |= PlanOwnBucket;
            if (s.Cron is not null) flags |= PlanCron;
            if (s.TimeZone is not null) flags |= PlanTimeZone;
            if (s.FlattenAfter is not null) flags |= PlanFlattenAfter;
            if (s.RiskFraction is not null) flags |= PlanRiskFraction;
            if (s.Quantity is not null) flags |= PlanQuantity;
            if (s.TakeProfitDistance is not null) flags |= PlanTakeProfit;
            Varint32(flags);
            Shared(s.Id.Value);
            w.Write(s.Name);
            Shared(s.Symbol);
            Shared(s.Bucket.Value);
            if (s.Cron is { } cron) w.Write(cron);
            if (s.TimeZone is { } zone) Shared(zone);
            w.Write(s.ArmBefore.Ticks);
            w.Write(s.DisarmAfter.Ticks);
            if (s.FlattenAfter is { } flatten) w.Write(flatten.Ticks);
            Enum((int)s.Entry);
            Decimal(s.EntryDistance);
            if (s.RiskFraction is { } risk) Decimal(risk);
            if (s.Quantity is { } quantity) Decimal(quantity);
            Decimal(s.StopLossDistance);
            if (s.TakeProfitDistance is { } tp) Decimal(tp);
            Enum((int)s.Misfire);
        }

        private void PlanOrders(PlanOrder[] orders)
        {
            Count(orders.Length);
            foreach (var o in orders)
            {
                Varint(o.Order);
                Enum((int)o.Role);
                Enum((int)o.Side);
            }
        }

        private void Plan(PlanSnapshot p)
        {
            Shared(p.Account.Value);
            PlanSpec(p.Spec);
            Enum((int)p.Status);
            Time(p.EventAt);
            Time(p.CreatedAt);
            Time(p.UpdatedAt);
            Decimal(p.ReferencePrice);
            Decimal(p.Quantity);
            Shared(p.List?.Value);
            Decimal(p.NetQuantity);
            Decimal(p.RealizedPnl);
            Decimal(p.Fees);
            Decimal(p.OccurrenceRealizedPnl);
            Decimal(p.OccurrenceFees);
            PlanOrders(p.TrackedOrders);
            Count(p.History.Length);
            foreach (var h in p.History) HistoryEntry(h);
        }

        private void HistoryEntry(PlanHistoryEntry h)
        {
            var flags = 0;
            if (h.EventAt is not null) flags |= HistoryEventAt;
            if (h.NextEventAt is not null) flags |= HistoryNextEventAt;
            if (h.Price is not null) flags |= HistoryPrice;
            if (h.Quantity is not null) flags |= HistoryQuantity;
            if (h.Order is not null) flags |= HistoryOrder;
            if (h.Role is not null) flags |= HistoryRole;
            if (h.Side is not null) flags |= HistorySide;
            if (h.Orders is not null) flags |= HistoryOrders;
            if (h.Fee is not null) flags |= HistoryFee;
            if (h.RealizedPnl is not null) flags |= HistoryRealized;
            if (h.Reason is not null) flags |= HistoryReason;
            Varint32(flags);
            Time(h.At);
            Enum((int)h.Kind);
            if (h.EventAt is { } eventAt) Time(eventAt);
            if (h.NextEventAt is { } next) Time(next);
            if (h.Price is { } price) Decimal(price);
            if (h.Quantity is { } quantity) Decimal(quantity);
            if (h.Order is { } order) Varint(order);
            if (h.Role is { } role) Enum((int)role);
            if (h.Side is { } side) Enum((int)side);
            if (h.Orders is { } orders) Numbers(orders);
            if (h.Fee is { } fee) Decimal(fee);
            if (h.RealizedPnl is { } realized) Decimal(realized);
            if (h.Reason is { } reason) Shared(reason);
        }
    }

    private sealed partial class Reader
    {
        private AccountEvent PlanEvent(byte tag, DateTimeOffset at, AccountId account)
        {
            var plan = new PlanId(SharedRequired());
            return tag switch
            {
                PlanCreatedTag => new PlanCreated(PlanSpec(), Time()) { At = at, Account = account, Plan = plan },
                22 => new PlanArmed(Time(), Decimal(), Decimal(), new ListId(SharedRequired()), PlanOrders()) { At = at, Account = account, Plan = plan },
                23 => new PlanArmSkipped(Time(), SharedRequired()) { At = at, Account = account, Plan = plan },
                24 => new PlanDisarmed(Time(), Numbers()) { At = at, Account = account, Plan = plan },
                25 => new PlanFlattened(Time(), r.ReadBoolean() ? r.Read7BitEncodedInt64() : null, Decimal(), Shared()) { At = at, Account = account, Plan = plan },
                26 => new PlanCompleted(Time()) { At = at, Account = account, Plan = plan },
                27 => new PlanRescheduled(Time(), Time()) { At = at, Account = account, Plan = plan },
                PlanCancelledTag => new PlanCancelled { At = at, Account = account, Plan = plan },
                _ => throw Corrupt($"unknown plan event tag {tag}"),
            };
        }

        private PlanSpec PlanSpec()
        {
            var flags = r.Read7BitEncodedInt();
            return new PlanSpec
            {
                Id = new PlanId(SharedRequired()),
                Name = r.ReadString(),
                Symbol = SharedRequired(),
                Bucket = new BucketId(SharedRequired()),
                OwnBucket = (flags & PlanOwnBucket) != 0,
                Cron = (flags & PlanCron) != 0 ? r.ReadString() : null,
                TimeZone = (flags & PlanTimeZone) != 0 ? SharedRequired() : null,
                ArmBefore = Duration(),
                DisarmAfter = Duration(),
                FlattenAfter = (flags & PlanFlattenAfter) != 0 ? Duration() : null,
                Entry = (PlanEntryType)r.ReadByte(),
                EntryDistance = Decimal(),
                RiskFraction = (flags & PlanRiskFraction) != 0 ? Decimal() : null,
                Quantity = (flags & PlanQuantity) != 0 ? Decimal() : null,
                StopLossDistance = Decimal(),
                TakeProfitDistance = (flags & PlanTakeProfit) != 0 ? Decimal() : null,
                Misfire = (PlanMisfire)r.ReadByte(),
            };
        }

        private TimeSpan Duration() => new(r.ReadInt64());

        private PlanOrder[] PlanOrders()
        {
            var orders = new PlanOrder[Count()];
            for (var i = 0; i < orders.Length; i++) orders[i] = new PlanOrder(r.Read7BitEncodedInt64(), (PlanOrderRole)r.ReadByte(), (OrderSide)r.ReadByte());
            return orders;
        }

        private PlanSnapshot Plan()
        {
            var account = new AccountId(SharedRequired());
            var spec = PlanSpec();
            var status = (PlanStatus)r.ReadByte();
            var eventAt = Time();
            var created = Time();
            var updated = Time();
            var reference = NullableDecimal();
            var quantity = NullableDecimal();
            var list = Shared();
            var net = Decimal();
            var realized = Decimal();
            var fees = Decimal();
            var occurrenceRealized = Decimal();
            var occurrenceFees = Decimal();
            var tracked = PlanOrders();
            var history = new PlanHistoryEntry[Count()];
            for (var i = 0; i < history.Length; i++) history[i] = HistoryEntry();
            return new PlanSnapshot
            {
                Account = account,
                Spec = spec,
                Status = status,
                EventAt = eventAt,
                CreatedAt = created,
                UpdatedAt = updated,
                ReferencePrice = reference,
                Quantity = quantity,
                List = list is null ? null : new ListId(list),
                NetQuantity = net,
                RealizedPnl = realized,
                Fees = fees,
                OccurrenceRealizedPnl = occurrenceRealized,
                OccurrenceFees = occurrenceFees,
                TrackedOrders = tracked,
                History = history,
            };
        }

        private PlanHistoryEntry HistoryEntry()
        {
            var flags = r.Read7BitEncodedInt();
            var at = Time();
            var kind = (PlanHistoryKind)r.ReadByte();
            return new PlanHistoryEntry(at, kind)
            {
                EventAt = (flags & HistoryEventAt) != 0 ? Time() : null,
                NextEventAt = (flags & HistoryNextEventAt) != 0 ? Time() : null,
                Price = (flags & HistoryPrice) != 0 ? Decimal() : null,
                Quantity = (flags & HistoryQuantity) != 0 ? Decimal() : null,
                Order = (flags & HistoryOrder) != 0 ? r.Read7BitEncodedInt64() : null,
                Role = (flags & HistoryRole) != 0 ? (PlanOrderRole)r.ReadByte() : null,
                Side = (flags & HistorySide) != 0 ? (OrderSide)r.ReadByte() : null,
                Orders = (flags & HistoryOrders) != 0 ? Numbers() : null,
                Fee = (flags & HistoryFee) != 0 ? Decimal() : null,
                RealizedPnl = (flags & HistoryRealized) != 0 ? Decimal() : null,
                Reason = (flags & HistoryReason) != 0 ? SharedRequired() : null,
            };
        }
    }
}
