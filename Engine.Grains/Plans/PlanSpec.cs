using Engine.Grains.Orders;

namespace Engine.Grains.Plans;

/// <summary>How a plan enters at arm time, relative to the reference price (the index).</summary>
public enum PlanEntryType : byte
{
    /// <summary>A buy-stop above and a sell-stop below as one OCO (the straddle list).</summary>
    Straddle = 0,
    /// <summary>A buy-stop above the reference price.</summary>
    BuyStop = 1,
    /// <summary>A sell-stop below the reference price.</summary>
    SellStop = 2,
}

/// <summary>What an arm step that comes late (after downtime) does.</summary>
public enum PlanMisfire : byte
{
    /// <summary>An arm whose moment passed by more than the grace is skipped for this occurrence.</summary>
    Skip = 0,
    /// <summary>A late arm still arms, as long as the event has not happened yet.</summary>
    ArmLate = 1,
}

public enum PlanStatus : byte
{
    /// <summary>Waiting for the current occurrence's arm moment.</summary>
    Scheduled = 0,
    /// <summary>Entries placed; waiting for the disarm moment.</summary>
    Armed = 1,
    /// <summary>Unfired entries cancelled; waiting for the flatten moment.</summary>
    Disarmed = 2,
    /// <summary>A one-time plan whose occurrence is over (or a recurring one whose schedule ran out).</summary>
    Completed = 3,
    Cancelled = 4,
}

/// <summary>The three scheduled steps of an occurrence.</summary>
public enum PlanStep : byte
{
    /// <summary>At event − armBefore: place the entries.</summary>
    Arm = 0,
    /// <summary>At event + disarmAfter: cancel the entries that did not fire.</summary>
    Disarm = 1,
    /// <summary>At event + flattenAfter: close what the plan still holds.</summary>
    Flatten = 2,
}

/// <summary>What an order does for its plan.</summary>
public enum PlanOrderRole : byte
{
    Entry = 0,
    TakeProfit = 1,
    StopLoss = 2,
    /// <summary>The reduce-only market order of the flatten step.</summary>
    Close = 3,
}

/// <summary>An order a plan placed, with its role and side (the plan follows its fills).</summary>
public readonly record struct PlanOrder(long Order, PlanOrderRole Role, OrderSide Side);

/// <summary>
/// A plan as requested. Durations are positive; distances are fractions (0.006 = 0.6%) of the reference
/// price for entries and of the entry's fill price for the exits; <see cref="RiskFraction"/> is a fraction
/// of the bucket's equity. <see cref="EventAt"/> is the (first) event time, UTC; with <see cref="Cron"/>
/// the plan recurs and the runtime computes each next occurrence.
/// </summary>
public sealed record PlanRequest
{
    public required string Name { get; init; }
    public required string Symbol { get; init; }
    /// <summary>The bucket to trade in; null with no <see cref="Allocation"/> means the manual bucket.</summary>
    public BucketId? Bucket { get; init; }
    /// <summary>USDT moved from the wallet into a new plan bucket.</summary>
    public decimal? Allocation { get; init; }
    public required DateTimeOffset EventAt { get; init; }
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public required TimeSpan ArmBefore { get; init; }
    public required TimeSpan DisarmAfter { get; init; }
    public TimeSpan? FlattenAfter { get; init; }
    public required PlanEntryType Entry { get; init; }
    public required decimal EntryDistance { get; init; }
    public decimal? RiskFraction { get; init; }
    public decimal? Quantity { get; init; }
    public required decimal StopLossDistance { get; init; }
    public decimal? TakeProfitDistance { get; init; }
    public required PlanMisfire Misfire { get; init; }
}

/// <summary>A plan's fixed configuration, as accepted (see <see cref="PlanRequest"/> for units).</summary>
public sealed record PlanSpec
{
    public required PlanId Id { get; init; }
    public required string Name { get; init; }
    public required string Symbol { get; init; }
    public required BucketId Bucket { get; init; }
    /// <summary>True when the plan created its bucket from an allocation.</summary>
    public bool OwnBucket { get; init; }
    /// <summary>The cron expression of a recurring plan (Quartz syntax), with <see cref="TimeZone"/> (IANA id).</summary>
    public string? Cron { get; init; }
    public string? TimeZone { get; init; }
    public required TimeSpan ArmBefore { get; init; }
    public required TimeSpan DisarmAfter { get; init; }
    public TimeSpan? FlattenAfter { get; init; }
    public required PlanEntryType Entry { get; init; }
    public required decimal EntryDistance { get; init; }
    public decimal? RiskFraction { get; init; }
    public decimal? Quantity { get; init; }
    public required decimal StopLossDistance { get; init; }
    public decimal? TakeProfitDistance { get; init; }
    public required PlanMisfire Misfire { get; init; }

    public bool IsRecurring => Cron is not null;
}
