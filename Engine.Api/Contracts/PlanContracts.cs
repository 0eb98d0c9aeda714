using Engine.Grains.Orders;
using Engine.Grains.Plans;

namespace Engine.Api.Contracts;

// Optional members have default values: the OpenAPI generator lists every constructor parameter
// without one as required.

/// <summary>
/// A trade plan request. <c>event</c> is <c>{at}</c> (ISO 8601 time) or <c>{cron, timeZone}</c> (Quartz cron,
/// seconds first; IANA zone). Durations are ISO 8601 (<c>PT5M</c>). <c>entry.type</c> is straddle, buyStop or
/// sellStop; <c>misfire</c> is skip or armLate. Distances are fractions (0.006 = 0.6%).
/// </summary>
public sealed record PlanRequestBody
{
    public string? Name { get; init; }
    public string? Symbol { get; init; }
    public string? BucketId { get; init; }
    public decimal? Allocation { get; init; }
    public PlanEventBody? Event { get; init; }
    public string? ArmBefore { get; init; }
    public string? DisarmAfter { get; init; }
    public string? FlattenAfter { get; init; }
    public PlanEntryBody? Entry { get; init; }
    public PlanSizingBody? Sizing { get; init; }
    public PlanDistanceBody? StopLoss { get; init; }
    public PlanDistanceBody? TakeProfit { get; init; }
    public string? Misfire { get; init; }
    public string? ClientOrderId { get; init; }
}

public sealed record PlanEventBody(string? At = null, string? Cron = null, string? TimeZone = null);

public sealed record PlanEntryBody(string? Type = null, decimal? Distance = null);

public sealed record PlanSizingBody(decimal? RiskFraction = null, decimal? Quantity = null);

public sealed record PlanDistanceBody(decimal? Distance = null);

/// <summary>A plan's event: the time of a one-time plan, or the cron and time zone of a recurring one.</summary>
public sealed record PlanEventResponse(DateTimeOffset? At = null, string? Cron = null, string? TimeZone = null);

public sealed record PlanEntryResponse(PlanEntryType Type, decimal Distance);

public sealed record PlanSizingResponse(decimal? RiskFraction = null, decimal? Quantity = null);

public sealed record PlanDistanceResponse(decimal Distance);

/// <summary>
/// A plan. <c>eventAt</c> is the current (or last) occurrence and <c>armAt</c>, <c>disarmAt</c>, <c>flattenAt</c>
/// its steps; <c>referencePrice</c> and <c>quantity</c> are set once it armed. <c>netQuantity</c> is the signed
/// position its fills built; <c>realizedPnl</c> (before fees) and <c>fees</c> cover all its occurrences.
/// </summary>
public sealed record PlanResponse
{
    public required string PlanId { get; init; }
    public required string AccountId { get; init; }
    public required string Name { get; init; }
    public required string Symbol { get; init; }
    public required string BucketId { get; init; }
    public required bool OwnBucket { get; init; }
    public required PlanEventResponse Event { get; init; }
    public required string ArmBefore { get; init; }
    public required string DisarmAfter { get; init; }
    public string? FlattenAfter { get; init; }
    public required PlanEntryResponse Entry { get; init; }
    public required PlanSizingResponse Sizing { get; init; }
    public required PlanDistanceResponse StopLoss { get; init; }
    public PlanDistanceResponse? TakeProfit { get; init; }
    public required PlanMisfire Misfire { get; init; }
    public required PlanStatus Status { get; init; }
    public required DateTimeOffset EventAt { get; init; }
    public required DateTimeOffset ArmAt { get; init; }
    public required DateTimeOffset DisarmAt { get; init; }
    public DateTimeOffset? FlattenAt { get; init; }
    public decimal? ReferencePrice { get; init; }
    public decimal? Quantity { get; init; }
    public string? ListId { get; init; }
    /// <summary>The plan's orders that are still live.</summary>
    public required IReadOnlyList<string> OrderIds { get; init; }
    public required decimal NetQuantity { get; init; }
    public required decimal RealizedPnl { get; init; }
    public required decimal Fees { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public required IReadOnlyList<PlanHistoryResponse> History { get; init; }
}

/// <summary>One line of a plan's history (which members are set depends on <c>type</c>).</summary>
public sealed record PlanHistoryResponse
{
    public required DateTimeOffset Timestamp { get; init; }
    public required PlanHistoryKind Type { get; init; }
    public DateTimeOffset? EventAt { get; init; }
    public DateTimeOffset? NextEventAt { get; init; }
    public decimal? Price { get; init; }
    public decimal? Quantity { get; init; }
    public string? OrderId { get; init; }
    public PlanOrderRole? Role { get; init; }
    public OrderSide? Side { get; init; }
    public IReadOnlyList<string>? OrderIds { get; init; }
    public decimal? Fee { get; init; }
    public decimal? RealizedPnl { get; init; }
    public string? Reason { get; init; }
}

public sealed record PositionSizeRequest(
    decimal? Equity = null,
    decimal? RiskFraction = null,
    decimal? EntryPrice = null,
    decimal? StopPrice = null,
    int? Leverage = null,
    string? Symbol = null);

/// <summary>
/// A position sized to lose <c>riskAmount</c> (equity × riskFraction) at the stop, taker fees included
/// (<c>lossAtStop</c> is what it loses, at most the risk amount); capped by what the equity can margin.
/// </summary>
public sealed record PositionSizeResponse(
    string Symbol,
    PositionSide Side,
    decimal Quantity,
    decimal Notional,
    decimal Margin,
    decimal? LiquidationPrice,
    decimal RiskAmount,
    decimal LossAtStop);
