using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Instruments;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Plans;

namespace Engine.Grains;

/// <summary>
/// Trade plans: a scheduled event (one time, or recurring by a cron the runtime evaluates), and three
/// steps around it that the runtime's scheduler fires as commands: arm (place entries relative to the
/// index), disarm (cancel the entries that did not fire) and flatten (close what the plan holds).
/// Whether a step still applies is decided here, from the plan's state and the time the command runs:
/// a step fired twice, late, or out of order changes nothing it should not.
/// </summary>
public sealed partial class ShardGrains
{
    /// <summary>Longest arm, disarm or flatten offset.</summary>
    public static readonly TimeSpan MaxPlanOffset = TimeSpan.FromDays(366);

    /// <summary>How far ahead an event may be.</summary>
    public static readonly TimeSpan MaxPlanHorizon = TimeSpan.FromDays(3660);

    private readonly Dictionary<PlanId, Plan> _plans = [];
    private readonly Dictionary<AccountId, List<Plan>> _accountPlans = [];
    /// <summary>The live orders plans follow, by order number.</summary>
    private readonly Dictionary<long, (Plan Plan, PlanOrder Order)> _planOrders = [];

    /// <summary>Every plan of the shard, finished ones included.</summary>
    public IEnumerable<Plan> Plans => _plans.Values;

    public Plan? FindPlan(AccountId account, PlanId id) => _plans.TryGetValue(id, out var plan) && plan.Account == account ? plan : null;

    /// <summary>An account's plans in creation order.</summary>
    public IReadOnlyList<Plan> PlansOf(AccountId account) => _accountPlans.TryGetValue(account, out var plans) ? plans : [];

    private CommandResult Decide(CreatePlan c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        var r = c.Request;
        if (string.IsNullOrWhiteSpace(r.Name) || r.Name.Length > 100)
            return Reject(Rejection.Invalid("invalid_name", "name must be 1 to 100 characters"));
        if (Instruments.Find(r.Symbol) is not { } instrument)
            return Reject(Rejection.Invalid("unknown_symbol", $"unknown symbol {r.Symbol}"));
        if (PlanScheduleProblem(r) is { } badSchedule) return Reject(badSchedule);
        if (PlanOrderProblem(instrument, r) is { } badOrders) return Reject(badOrders);

        BucketId bucket;
        if (r.Allocation is { } allocation)
        {
            if (r.Bucket is not null) return Reject(Rejection.Invalid("invalid_allocation", "give bucketId or allocation, not both"));
            if (allocation <= 0m || allocation > MaxAmount)
                return Reject(Rejection.Invalid("invalid_allocation", "allocation must be greater than 0 and at most 1e12"));
            if (allocation > account.WalletBalance)
                return Reject(Rejection.Business("insufficient_balance", $"wallet holds {account.WalletBalance}"));
            bucket = BucketId.For(account.Id, account.BucketCount + 1);
        }
        else if (account.FindBucket(r.Bucket ?? account.ManualBucket) is { } existing)
        {
            bucket = existing.Id;
        }
        else
        {
            return Reject(Rejection.NotFound("bucket not found"));
        }

        var id = PlanId.For(account.Id, PlansOf(account.Id).Count + 1);
        var spec = new PlanSpec
        {
            Id = id,
            Name = r.Name.Trim(),
            Symbol = instrument.Symbol,
            Bucket = bucket,
            OwnBucket = r.Allocation is not null,
            Cron = r.Cron,
            TimeZone = r.TimeZone,
            ArmBefore = r.ArmBefore,
            DisarmAfter = r.DisarmAfter,
            FlattenAfter = r.FlattenAfter,
            Entry = r.Entry,
            EntryDistance = r.EntryDistance,
            RiskFraction = r.RiskFraction,
            Quantity = r.Quantity,
            StopLossDistance = r.StopLossDistance,
            TakeProfitDistance = r.TakeProfitDistance,
            Misfire = r.Misfire,
        };
        if (r.Allocation is { } funded)
            Emit(new BucketCreated(bucket, spec.Name, BucketKind.Plan, funded) { At = _now, Account = account.Id });
        Emit(new PlanCreated(spec, r.EventAt) { At = _now, Account = account.Id, Plan = id });
        return Ok(id);
    }

    private Rejection? PlanScheduleProblem(PlanRequest r)
    {
        if (r.ArmBefore <= TimeSpan.Zero)
            return Rejection.Invalid("invalid_arm_before", "armBefore must be a positive duration: a plan arms before its event, never after");
        if (r.ArmBefore > MaxPlanOffset) return Rejection.Invalid("invalid_arm_before", $"armBefore must be at most {MaxPlanOffset.TotalDays} days");
        if (r.DisarmAfter <= TimeSpan.Zero || r.DisarmAfter > MaxPlanOffset)
            return Rejection.Invalid("invalid_disarm_after", $"disarmAfter must be a positive duration of at most {MaxPlanOffset.TotalDays} days");
        if (r.FlattenAfter is { } flatten && (flatten <= r.DisarmAfter || flatten > MaxPlanOffset))
            return Rejection.Invalid("invalid_flatten_after", $"flattenAfter must be longer than disarmAfter and at most {MaxPlanOffset.TotalDays} days");
        if ((r.Cron is null) != (r.TimeZone is null))
            return r.Cron is null
                ? Rejection.Invalid("invalid_event", "timeZone goes with cron")
                : Rejection.Invalid("invalid_time_zone", "a cron event needs a timeZone");
        if (r.EventAt <= _now) return Rejection.Invalid("invalid_event", $"the event time {r.EventAt:O} has passed");
        if (r.EventAt > _now + MaxPlanHorizon) return Rejection.Invalid("invalid_event", $"the event must be at most {MaxPlanHorizon.TotalDays} days ahead");
        if (r.EventAt - r.ArmBefore <= _now)
            return Rejection.Invalid("invalid_arm_before", $"the arm moment {r.EventAt - r.ArmBefore:O} (event − armBefore) has passed");
        return null;
    }

    private static Rejection? PlanOrderProblem(Instrument instrument, PlanRequest r)
    {
        if (!Enum.IsDefined(r.Entry)) return Rejection.Invalid("invalid_entry", "entry.type must be straddle, buyStop or sellStop");
        if (!Enum.IsDefined(r.Misfire)) return Rejection.Invalid("invalid_misfire", "misfire must be skip or armLate");
        foreach (var (distance, name) in new (decimal? Distance, string Name)[] { (r.EntryDistance, "entry"), (r.StopLossDistance, "stopLoss"), (r.TakeProfitDistance, "takeProfit") })
            if (distance is { } d && (d <= 0m || d >= 1m))
                return Rejection.Invalid("invalid_distance", $"{name}.distance must be a fraction between 0 and 1");
        if ((r.RiskFraction is null) == (r.Quantity is null))
            return Rejection.Invalid("invalid_sizing", "give exactly one of sizing.riskFraction and sizing.quantity");
        if (r.RiskFraction is { } risk && (risk <= 0m || risk > 1m))
            return Rejection.Invalid("invalid_risk_fraction", "sizing.riskFraction must be greater than 0 and at most 1");
        return r.Quantity is { } quantity ? QuantityProblem(instrument, quantity) : null;
    }

    private CommandResult Decide(RunPlanStep c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (FindPlan(account.Id, c.Plan) is not { } plan) return Reject(Rejection.NotFound("plan not found"));
        // A step of an occurrence that is over, or of a plan that is: fired twice, or after a restart.
        if (plan.IsFinished || plan.EventAt != c.EventAt) return Ok(plan.Id);
        switch (c.Step)
        {
            case PlanStep.Arm:
                if (plan.Status == PlanStatus.Scheduled) Arm(account, plan, c.NextEventAt);
                break;
            case PlanStep.Disarm:
                // A disarm before any arm: the arm's moment is long gone (fired out of order after downtime).
                if (plan.Status == PlanStatus.Scheduled)
                {
                    SkipArm(plan, _now >= plan.EventAt ? PlanReasons.EventPassed : PlanReasons.MissedArm, c.NextEventAt);
                }
                else if (plan.Status == PlanStatus.Armed)
                {
                    Disarm(plan);
                    if (plan.Spec.FlattenAfter is null) EndOccurrence(plan, c.NextEventAt);
                }

                break;
            case PlanStep.Flatten:
                if (plan.Spec.FlattenAfter is null) break;
                if (plan.Status == PlanStatus.Scheduled)
                {
                    SkipArm(plan, _now >= plan.EventAt ? PlanReasons.EventPassed : PlanReasons.MissedArm, c.NextEventAt);
                    break;
                }

                if (plan.Status == PlanStatus.Armed) Disarm(plan);
                Flatten(account, plan);
                EndOccurrence(plan, c.NextEventAt);
                break;
            default:
                return Reject(Rejection.Invalid("invalid_step", "step must be arm, disarm or flatten"));
        }

        return Ok(plan.Id);
    }

    private CommandResult Decide(CancelPlan c)
    {
        if (!TryAccount(c.Account, out var account, out var rejected)) return rejected;
        if (FindPlan(account.Id, c.Plan) is not { } plan) return Reject(Rejection.NotFound("plan not found"));
        if (plan.IsFinished) return Reject(Rejection.Business("plan_closed", $"the plan is {plan.Status.ToString().ToLowerInvariant()}"));
        // Exits that protect a position an entry opened stay: they close with the position.
        CancelWaitingEntries(plan, OrderReasons.PlanCancelled);
        Emit(new PlanCancelled { At = _now, Account = account.Id, Plan = plan.Id });
        return Ok(plan.Id);
    }

    /// <summary>The arm step: misfire policy first, then size and place the entries, or record why not.</summary>
    private void Arm(Account account, Plan plan, DateTimeOffset? next)
    {
        if (_now >= plan.EventAt)
        {
            SkipArm(plan, PlanReasons.EventPassed, next);
            return;
        }

        if (plan.Spec.Misfire == PlanMisfire.Skip && _now > plan.ArmAt + Options.PlanMisfireGrace)
        {
            SkipArm(plan, PlanReasons.MissedArm, next);
            return;
        }

        var entries = PlanEntries(account, plan);
        if (entries.Rejection is { } refused)
        {
            SkipArm(plan, refused.Code, next);
            return;
        }

        var (type, specs, reference, quantity) = entries.Value;
        var orders = specs.Select(s => new PlanOrder(s.Number, RoleOf(s), s.Side)).ToArray();
        Emit(new PlanArmed(plan.EventAt, reference, quantity, NextListId(account), orders) { At = _now, Account = account.Id, Plan = plan.Id });
        AcceptList(account, type, specs, null, null);
    }

    private static PlanOrderRole RoleOf(OrderSpec spec) =>
        spec.Parent is null ? PlanOrderRole.Entry : spec.Type == OrderType.TakeProfit ? PlanOrderRole.TakeProfit : PlanOrderRole.StopLoss;

    /// <summary>
    /// The entries of the current occurrence at the index now, checked as a list placement would be:
    /// stops at the entry distance above and/or below the index, sized by risk or fixed, each with its
    /// exits at the stop-loss and take-profit distances from its fill.
    /// </summary>
    private ((OrderListType Type, List<OrderSpec> Specs, decimal Reference, decimal Quantity) Value, Rejection? Rejection) PlanEntries(Account account, Plan plan)
    {
        var spec = plan.Spec;
        if (account.FindBucket(spec.Bucket) is not { } bucket) return (default, Rejection.NotFound("bucket not found"));
        var instrument = InstrumentOf(spec.Symbol);
        if (QuoteOf(spec.Symbol).Index is not { } reference) return (default, Rejection.Business("no_price", $"no index for {spec.Symbol} yet"));

        var sides = new List<(OrderSide Side, decimal Entry, decimal Stop)>(2);
        if (spec.Entry is PlanEntryType.Straddle or PlanEntryType.BuyStop)
        {
            var above = instrument.RoundToTick(reference * (1m + spec.EntryDistance));
            sides.Add((OrderSide.Buy, above, instrument.RoundToTick(above * (1m - spec.StopLossDistance))));
        }

        if (spec.Entry is PlanEntryType.Straddle or PlanEntryType.SellStop)
        {
            var below = instrument.RoundToTick(reference * (1m - spec.EntryDistance));
            sides.Add((OrderSide.Sell, below, instrument.RoundToTick(below * (1m + spec.StopLossDistance))));
        }

        var leverage = LeverageOf(bucket, spec.Symbol);
        var quantity = spec.Quantity ?? decimal.MaxValue;
        if (spec.RiskFraction is { } risk)
        {
            // A straddle has one quantity: the side that risks more per unit sets it.
            var equity = EquityOf(bucket);
            foreach (var (_, entry, stop) in sides)
            {
                var (size, refused) = PositionSizing.Calculate(instrument, equity, risk, entry, stop, leverage);
                if (refused is not null) return (default, refused);
                quantity = Math.Min(quantity, size!.Quantity);
            }
        }
        else
        {
            foreach (var (side, entry, stop) in sides)
                if (PositionSizing.StopBeyondLiquidation(instrument, side, quantity, entry, stop, leverage, out _) is { } beyond)
                    return (default, beyond);
        }

        List<OrderSpec> specs;
        OrderListType type;
        if (spec.Entry == PlanEntryType.Straddle)
        {
            type = OrderListType.Straddle;
            var built = BuildStraddle(account, new OrderListRequest
            {
                Type = type,
                Bucket = bucket.Id,
                Symbol = spec.Symbol,
                Quantity = quantity,
                AboveTrigger = sides[0].Entry,
                BelowTrigger = sides[1].Entry,
                TakeProfitDistance = spec.TakeProfitDistance,
                StopLossDistance = spec.StopLossDistance,
            });
            if (built.Rejection is { } no) return (default, no);
            specs = built.Specs!;
        }
        else
        {
            // One side: a stop entry whose exits arm from its fill, as each side of a straddle does.
            type = OrderListType.Bracket;
            var list = new OrderListRequest { Type = type, Bucket = bucket.Id };
            var n = NextOrderNumber;
            var request = new OrderRequest { Bucket = bucket.Id, Symbol = spec.Symbol, Side = sides[0].Side, Type = OrderType.Stop, Quantity = quantity, TriggerPrice = sides[0].Entry };
            var member = Member(account, list, request, n, "entry");
            if (member.Rejection is { } no) return (default, no);
            specs = member.Specs!;
            AddExitsFromFill(specs, specs[0], n + 1, spec.TakeProfitDistance, spec.StopLossDistance);
        }

        if (CheckList(account, specs) is { } notPlaced) return (default, notPlaced);
        return ((type, specs, reference, quantity), null);
    }

    /// <summary>The bucket's balance plus its positions' unrealized PnL at mark (index before the first mark).</summary>
    private decimal EquityOf(Bucket bucket)
    {
        var equity = bucket.Balance;
        foreach (var p in bucket.Positions.Values)
            if ((QuoteOf(p.Symbol).Mark ?? QuoteOf(p.Symbol).Index) is { } mark)
                equity += p.UnrealizedPnl(mark);
        return equity;
    }

    private void SkipArm(Plan plan, string reason, DateTimeOffset? next)
    {
        Emit(new PlanArmSkipped(plan.EventAt, reason) { At = _now, Account = plan.Account, Plan = plan.Id });
        EndOccurrence(plan, next);
    }

    /// <summary>The disarm step: entries that have not triggered are cancelled; a fired side keeps its exits.</summary>
    private void Disarm(Plan plan)
    {
        var cancelled = CancelWaitingEntries(plan, OrderReasons.PlanDisarmed);
        Emit(new PlanDisarmed(plan.EventAt, cancelled) { At = _now, Account = plan.Account, Plan = plan.Id });
    }

    private long[] CancelWaitingEntries(Plan plan, string reason)
    {
        var cancelled = new List<long>();
        foreach (var tracked in plan.TrackedOrders.ToArray())
        {
            if (tracked.Role != PlanOrderRole.Entry || !_orders.TryGetValue(tracked.Order, out var order) || order.Phase != OrderPhase.Waiting) continue;
            Finish(order, new OrderCancelled(order.Number, reason) { At = _now, Account = order.Account });
            cancelled.Add(order.Number);
        }

        return cancelled.ToArray();
    }

    /// <summary>
    /// The flatten step: a reduce-only market order for the position the plan's fills built (never more than
    /// the bucket holds on that side); the exits are cancelled when it closes the position.
    /// </summary>
    private void Flatten(Account account, Plan plan)
    {
        var net = plan.NetQuantity;
        if (net == 0m)
        {
            Emit(new PlanFlattened(plan.EventAt, null, 0m, PlanReasons.NothingToClose) { At = _now, Account = account.Id, Plan = plan.Id });
            return;
        }

        var request = new OrderRequest
        {
            Bucket = plan.Spec.Bucket,
            Symbol = plan.Spec.Symbol,
            Side = net > 0m ? OrderSide.Sell : OrderSide.Buy,
            Type = OrderType.Market,
            Quantity = Math.Abs(net),
            ReduceOnly = true,
        };
        Rejection? refused = Validate(account, request, out var bucket, out var instrument);
        OrderSpec? close = null;
        if (refused is null)
        {
            close = ToSpec(request, bucket.Id, NextOrderNumber);
            refused = CheckPlacement(account, bucket, instrument, close);
        }

        if (refused is not null || close is null)
        {
            Emit(new PlanFlattened(plan.EventAt, null, Math.Abs(net), refused?.Code) { At = _now, Account = account.Id, Plan = plan.Id });
            return;
        }

        Emit(new PlanFlattened(plan.EventAt, close.Number, Math.Abs(net), null) { At = _now, Account = account.Id, Plan = plan.Id });
        Accept(account, close, null);
    }

    private void EndOccurrence(Plan plan, DateTimeOffset? next)
    {
        if (plan.Spec.IsRecurring && next is { } n && n > plan.EventAt)
            Emit(new PlanRescheduled(plan.EventAt, n) { At = _now, Account = plan.Account, Plan = plan.Id });
        else
            Emit(new PlanCompleted(plan.EventAt) { At = _now, Account = plan.Account, Plan = plan.Id });
    }

    // ---- apply ----

    private void ApplyPlan(Account account, PlanEvent e)
    {
        if (e is PlanCreated created)
        {
            var added = new Plan(account.Id, created.Spec, created.EventAt, e.At);
            _plans[added.Id] = added;
            if (!_accountPlans.TryGetValue(account.Id, out var plans)) _accountPlans[account.Id] = plans = [];
            plans.Add(added);
            AddHistory(added, new PlanHistoryEntry(e.At, PlanHistoryKind.Created) { EventAt = created.EventAt });
            return;
        }

        var plan = _plans[e.Plan];
        plan.UpdatedAt = e.At;
        switch (e)
        {
            case PlanArmed armed:
                plan.Status = PlanStatus.Armed;
                plan.ReferencePrice = armed.ReferencePrice;
                plan.Quantity = armed.Quantity;
                plan.List = armed.List;
                foreach (var order in armed.Orders) Track(plan, order);
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Armed)
                {
                    EventAt = armed.EventAt,
                    Price = armed.ReferencePrice,
                    Quantity = armed.Quantity,
                    Orders = armed.Orders.Select(o => o.Order).ToArray(),
                });
                break;
            case PlanArmSkipped skipped:
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.ArmSkipped) { EventAt = skipped.EventAt, Reason = skipped.Reason });
                break;
            case PlanDisarmed disarmed:
                plan.Status = PlanStatus.Disarmed;
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Disarmed) { EventAt = disarmed.EventAt, Orders = disarmed.Orders });
                break;
            case PlanFlattened flattened:
                if (flattened.Order is { } close)
                    Track(plan, new PlanOrder(close, PlanOrderRole.Close, plan.NetQuantity > 0m ? OrderSide.Sell : OrderSide.Buy));
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Flattened)
                {
                    EventAt = flattened.EventAt,
                    Order = flattened.Order,
                    Quantity = flattened.Quantity,
                    Reason = flattened.Reason,
                });
                break;
            case PlanCompleted completed:
                plan.Status = PlanStatus.Completed;
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Completed)
                {
                    EventAt = completed.EventAt,
                    RealizedPnl = plan.OccurrenceRealizedPnl,
                    Fee = plan.OccurrenceFees,
                });
                break;
            case PlanRescheduled rescheduled:
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Rescheduled)
                {
                    EventAt = rescheduled.EventAt,
                    NextEventAt = rescheduled.NextEventAt,
                    RealizedPnl = plan.OccurrenceRealizedPnl,
                    Fee = plan.OccurrenceFees,
                });
                plan.Status = PlanStatus.Scheduled;
                plan.EventAt = rescheduled.NextEventAt;
                plan.ReferencePrice = null;
                plan.Quantity = null;
                plan.List = null;
                plan.OccurrenceRealizedPnl = 0m;
                plan.OccurrenceFees = 0m;
                break;
            case PlanCancelled:
                plan.Status = PlanStatus.Cancelled;
                AddHistory(plan, new PlanHistoryEntry(e.At, PlanHistoryKind.Cancelled) { EventAt = plan.EventAt });
                break;
        }
    }

    /// <summary>
    /// Follows what the plans' orders do (state derived from the order events themselves, so replay
    /// rebuilds it): fills build the plan's position and result, and every end of an order is history.
    /// </summary>
    private void ObservePlans(Account account, AccountEvent e)
    {
        switch (e)
        {
            case OrderFilled f when _planOrders.TryGetValue(f.Order, out var tracked):
            {
                var (plan, order) = tracked;
                plan.NetQuantity += order.Side.Sign() * f.Quantity;
                plan.RealizedPnl += f.RealizedPnl;
                plan.OccurrenceRealizedPnl += f.RealizedPnl;
                plan.Fees += f.Fee;
                plan.OccurrenceFees += f.Fee;
                plan.UpdatedAt = f.At;
                AddHistory(plan, new PlanHistoryEntry(f.At, PlanHistoryKind.OrderFilled)
                {
                    Order = f.Order,
                    Role = order.Role,
                    Side = order.Side,
                    Quantity = f.Quantity,
                    Price = f.Price,
                    Fee = f.Fee,
                    RealizedPnl = f.RealizedPnl,
                });
                if (!_orders.TryGetValue(f.Order, out var filled) || !filled.IsLive) Untrack(plan, f.Order);
                break;
            }

            case OrderCancelled c when _planOrders.TryGetValue(c.Order, out var tracked):
                OrderEnded(tracked, c.At, PlanHistoryKind.OrderCancelled, c.Reason);
                break;
            case OrderExpired x when _planOrders.TryGetValue(x.Order, out var tracked):
                OrderEnded(tracked, x.At, PlanHistoryKind.OrderExpired, x.Reason);
                break;
            case OrderRejected r when _planOrders.TryGetValue(r.Order, out var tracked):
                OrderEnded(tracked, r.At, PlanHistoryKind.OrderRejected, r.Reason);
                break;
            case PositionLiquidated l when _accountPlans.TryGetValue(account.Id, out var plans):
                foreach (var plan in plans)
                {
                    if (plan.NetQuantity == 0m || plan.Spec.Bucket != l.Bucket || plan.Spec.Symbol != l.Symbol) continue;
                    // In a shared bucket the position may hold more than the plan's part: the plan takes its share.
                    var held = Math.Abs(plan.NetQuantity);
                    var share = held >= Math.Abs(l.Quantity) ? l.RealizedPnl : Money.Round(l.RealizedPnl * held / Math.Abs(l.Quantity));
                    plan.NetQuantity = 0m;
                    plan.RealizedPnl += share;
                    plan.OccurrenceRealizedPnl += share;
                    plan.UpdatedAt = l.At;
                    AddHistory(plan, new PlanHistoryEntry(l.At, PlanHistoryKind.PositionLiquidated) { Quantity = held, Price = l.Price, RealizedPnl = share });
                }

                break;
        }
    }

    private void OrderEnded((Plan Plan, PlanOrder Order) tracked, DateTimeOffset at, PlanHistoryKind kind, string reason)
    {
        var (plan, order) = tracked;
        plan.UpdatedAt = at;
        AddHistory(plan, new PlanHistoryEntry(at, kind) { Order = order.Order, Role = order.Role, Side = order.Side, Reason = reason });
        Untrack(plan, order.Order);
    }

    private void Track(Plan plan, PlanOrder order)
    {
        plan.TrackedOrders.Add(order);
        _planOrders[order.Order] = (plan, order);
    }

    private void Untrack(Plan plan, long number)
    {
        _planOrders.Remove(number);
        plan.TrackedOrders.RemoveAll(o => o.Order == number);
    }

    private void AddHistory(Plan plan, PlanHistoryEntry entry) => plan.History.Add(entry, Options.PlanHistory);

    // ---- snapshot and fingerprint ----

    private PlanSnapshot[] CapturePlans()
    {
        var plans = new List<PlanSnapshot>(_plans.Count);
        foreach (var list in _accountPlans.Values)
        {
            foreach (var p in list)
            {
                plans.Add(new PlanSnapshot
                {
                    Account = p.Account,
                    Spec = p.Spec,
                    Status = p.Status,
                    EventAt = p.EventAt,
                    CreatedAt = p.CreatedAt,
                    UpdatedAt = p.UpdatedAt,
                    ReferencePrice = p.ReferencePrice,
                    Quantity = p.Quantity,
                    List = p.List,
                    NetQuantity = p.NetQuantity,
                    RealizedPnl = p.RealizedPnl,
                    Fees = p.Fees,
                    OccurrenceRealizedPnl = p.OccurrenceRealizedPnl,
                    OccurrenceFees = p.OccurrenceFees,
                    TrackedOrders = p.TrackedOrders.ToArray(),
                    History = p.History.ToArray(),
                });
            }
        }

        return plans.ToArray();
    }

    private void LoadPlans(PlanSnapshot[] plans)
    {
        foreach (var s in plans)
        {
            if (!_accounts.ContainsKey(s.Account)) throw Corrupt($"plan {s.Spec.Id} belongs to unknown account {s.Account}");
            if (Instruments.Find(s.Spec.Symbol) is null) throw Corrupt($"plan {s.Spec.Id} trades {s.Spec.Symbol}, which is not an instrument");
            var plan = new Plan(s.Account, s.Spec, s.EventAt, s.CreatedAt)
            {
                Status = s.Status,
                UpdatedAt = s.UpdatedAt,
                ReferencePrice = s.ReferencePrice,
                Quantity = s.Quantity,
                List = s.List,
                NetQuantity = s.NetQuantity,
                RealizedPnl = s.RealizedPnl,
                Fees = s.Fees,
                OccurrenceRealizedPnl = s.OccurrenceRealizedPnl,
                OccurrenceFees = s.OccurrenceFees,
            };
            if (!_plans.TryAdd(plan.Id, plan)) throw Corrupt($"plan {plan.Id} appears twice");
            if (!_accountPlans.TryGetValue(s.Account, out var list)) _accountPlans[s.Account] = list = [];
            list.Add(plan);
            foreach (var order in s.TrackedOrders)
            {
                if (_planOrders.ContainsKey(order.Order)) throw Corrupt($"order {order.Order} is followed by two plans");
                Track(plan, order);
            }

            foreach (var entry in s.History) plan.History.Add(entry, Options.PlanHistory);
        }
    }

    private void AppendPlans(System.Text.StringBuilder sb)
    {
        foreach (var p in _plans.Values.OrderBy(p => p.Id.Value, StringComparer.Ordinal))
        {
            var s = p.Spec;
            sb.Append("plan ").Append(p.Id.Value).Append(" account=").Append(p.Account.Value)
                .Append(" | spec name=").Append(s.Name).Append(" symbol=").Append(s.Symbol).Append(" bucket=").Append(s.Bucket.Value)
                .Append(" own=").Append(s.OwnBucket).Append(" cron=").Append(s.Cron ?? "-").Append(" tz=").Append(s.TimeZone ?? "-")
                .Append(" arm=").Append(s.ArmBefore.Ticks).Append(" disarm=").Append(s.DisarmAfter.Ticks)
                .Append(" flatten=").Append(s.FlattenAfter?.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-")
                .Append(" entry=").Append(s.Entry).Append(' ').Append(Num(s.EntryDistance)).Append(" risk=").Append(Num(s.RiskFraction))
                .Append(" qty=").Append(Num(s.Quantity)).Append(" sl=").Append(Num(s.StopLossDistance)).Append(" tp=").Append(Num(s.TakeProfitDistance))
                .Append(" misfire=").Append(s.Misfire)
                .Append(" | status=").Append(p.Status).Append(" eventAt=").Append(Time(p.EventAt)).Append(" created=").Append(Time(p.CreatedAt))
                .Append(" updated=").Append(Time(p.UpdatedAt)).Append(" ref=").Append(Num(p.ReferencePrice)).Append(" armedQty=").Append(Num(p.Quantity))
                .Append(" list=").Append(p.List?.Value ?? "-").Append(" net=").Append(Num(p.NetQuantity)).Append(" realized=").Append(Num(p.RealizedPnl))
                .Append(" fees=").Append(Num(p.Fees)).Append(" occRealized=").Append(Num(p.OccurrenceRealizedPnl)).Append(" occFees=").Append(Num(p.OccurrenceFees))
                .Append(" tracked=[").AppendJoin(',', p.TrackedOrders.Select(o => $"{o.Order}:{o.Role}:{o.Side}")).Append("]\n");
            foreach (var h in p.History)
                sb.Append(p.Id.Value).Append(" history ").Append(System.Text.Json.JsonSerializer.Serialize(h, FingerprintJson)).Append('\n');
        }

        foreach (var (number, (plan, order)) in _planOrders.OrderBy(kv => kv.Key))
            sb.Append("planOrder ").Append(number).Append(' ').Append(plan.Id.Value).Append(' ').Append(order.Role).Append(' ').Append(order.Side).Append('\n');
    }
}

/// <summary>The stable codes a plan's history gives for steps that did nothing (besides placement rejections).</summary>
public static class PlanReasons
{
    /// <summary>The arm came at or after the event: a plan never arms once its event has happened.</summary>
    public const string EventPassed = "event_passed";
    /// <summary>The arm came later than its moment plus the grace, and the plan's misfire policy is skip.</summary>
    public const string MissedArm = "missed_arm";
    /// <summary>The flatten step found no position built by the plan.</summary>
    public const string NothingToClose = "nothing_to_close";
}
