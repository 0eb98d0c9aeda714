using Engine.Grains.Common;
using Engine.Grains.Orders;

namespace Engine.Grains.Plans;

/// <summary>
/// A trade plan's live state: where its current occurrence stands, the orders it still follows and
/// what they did. Only the shard's Apply changes it. Money in USDT; <see cref="NetQuantity"/> is the
/// signed position the plan's fills built (+ long), in base units.
/// </summary>
public sealed class Plan
{
    public Plan(AccountId account, PlanSpec spec, DateTimeOffset eventAt, DateTimeOffset createdAt)
    {
        Account = account;
        Spec = spec;
        EventAt = eventAt;
        CreatedAt = createdAt;
        UpdatedAt = createdAt;
    }

    public AccountId Account { get; }
    public PlanSpec Spec { get; }
    public PlanId Id => Spec.Id;
    public PlanStatus Status { get; internal set; }

    /// <summary>The current occurrence's event time (UTC); the last one once the plan is finished.</summary>
    public DateTimeOffset EventAt { get; internal set; }

    public DateTimeOffset CreatedAt { get; }
    public DateTimeOffset UpdatedAt { get; internal set; }

    public DateTimeOffset ArmAt => EventAt - Spec.ArmBefore;
    public DateTimeOffset DisarmAt => EventAt + Spec.DisarmAfter;
    public DateTimeOffset? FlattenAt => Spec.FlattenAfter is { } f ? EventAt + f : null;

    /// <summary>The index the current occurrence armed at, and the quantity of its entries (null until armed).</summary>
    public decimal? ReferencePrice { get; internal set; }
    public decimal? Quantity { get; internal set; }
    public ListId? List { get; internal set; }

    public decimal NetQuantity { get; internal set; }
    /// <summary>Realized PnL of the plan's fills and liquidations, before fees; all occurrences.</summary>
    public decimal RealizedPnl { get; internal set; }
    /// <summary>Fees of the plan's fills (positive costs); all occurrences.</summary>
    public decimal Fees { get; internal set; }
    public decimal OccurrenceRealizedPnl { get; internal set; }
    public decimal OccurrenceFees { get; internal set; }

    /// <summary>The plan's orders that are still live, in the order it placed them.</summary>
    public List<PlanOrder> TrackedOrders { get; } = [];

    public BoundedLog<PlanHistoryEntry> History { get; } = new();

    public bool IsFinished => Status is PlanStatus.Completed or PlanStatus.Cancelled;
}

public enum PlanHistoryKind : byte
{
    Created = 0,
    Armed = 1,
    ArmSkipped = 2,
    OrderFilled = 3,
    OrderCancelled = 4,
    OrderExpired = 5,
    OrderRejected = 6,
    PositionLiquidated = 7,
    Disarmed = 8,
    Flattened = 9,
    Completed = 10,
    Rescheduled = 11,
    Cancelled = 12,
}

/// <summary>
/// One line of a plan's history. Which members are set depends on <see cref="Kind"/>: the occurrence's
/// <see cref="EventAt"/> for steps; the reference price and quantity when armed; the order, its role,
/// side, fill price and quantity, fee and realized PnL for what the plan's orders did; the reason of a
/// skip, a cancellation or a refused flatten; the occurrence's result (realized PnL, fees) when it ended.
/// </summary>
public sealed record PlanHistoryEntry(DateTimeOffset At, PlanHistoryKind Kind)
{
    public DateTimeOffset? EventAt { get; init; }
    public DateTimeOffset? NextEventAt { get; init; }
    public decimal? Price { get; init; }
    public decimal? Quantity { get; init; }
    public long? Order { get; init; }
    public PlanOrderRole? Role { get; init; }
    public OrderSide? Side { get; init; }
    public long[]? Orders { get; init; }
    public decimal? Fee { get; init; }
    public decimal? RealizedPnl { get; init; }
    public string? Reason { get; init; }
}
