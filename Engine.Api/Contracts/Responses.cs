using System.Text.Json.Serialization;
using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;
using Engine.Grains.Risk;

namespace Engine.Api.Contracts;

public sealed record CreatedAccountResponse(string AccountId, string ApiKey);

public sealed record AccountResponse(string AccountId, string Name, decimal WalletBalance, decimal Equity, IReadOnlyList<BucketResponse> Buckets,
    bool KillSwitch = false, DateTimeOffset? CancelAllAfter = null);

public sealed record BucketResponse(
    string BucketId,
    string Name,
    BucketKind Kind,
    decimal Balance,
    decimal UsedMargin,
    decimal Available,
    decimal Equity,
    decimal UnrealizedPnl,
    decimal RealizedPnl,
    bool Locked,
    IReadOnlyDictionary<string, int> Leverage,
    IReadOnlyList<PositionResponse> Positions,
    string? LockReason = null,
    bool KillSwitch = false,
    decimal? DailyLossLimit = null,
    decimal? DailyLoss = null);

public enum PositionSide
{
    Long = 0,
    Short = 1,
}

public sealed record PositionResponse(
    string BucketId,
    string Symbol,
    PositionSide Side,
    decimal Quantity,
    decimal EntryPrice,
    decimal? MarkPrice,
    int Leverage,
    decimal Margin,
    decimal UnrealizedPnl,
    decimal? LiquidationPrice);

public sealed record OrderResponse
{
    public required string OrderId { get; init; }
    public required string AccountId { get; init; }
    public required string BucketId { get; init; }
    public string? ListId { get; init; }
    public required string Symbol { get; init; }
    public required OrderSide Side { get; init; }
    public required OrderType Type { get; init; }
    public required decimal Quantity { get; init; }
    public decimal? Price { get; init; }
    public decimal? TriggerPrice { get; init; }
    public required TriggerSource TriggerBy { get; init; }
    public decimal? CallbackRate { get; init; }
    public decimal? CallbackAmount { get; init; }
    public decimal? ActivationPrice { get; init; }
    /// <summary>The extreme a trailing stop follows now (highest for a sell, lowest for a buy).</summary>
    public decimal? TrailingExtreme { get; init; }
    public required TimeInForce TimeInForce { get; init; }
    public DateTimeOffset? ExpireAt { get; init; }
    public required bool ReduceOnly { get; init; }
    public required bool ClosePosition { get; init; }
    public string? ClientOrderId { get; init; }
    /// <summary>The order whose fill arms this one (OTO secondary, bracket or straddle exit).</summary>
    public string? ParentOrderId { get; init; }
    public string? OcoSiblingId { get; init; }
    public required OrderStatus Status { get; init; }
    public required decimal FilledQuantity { get; init; }
    public required decimal AverageFillPrice { get; init; }
    public DateTimeOffset? TriggeredAt { get; init; }
    public decimal? TriggeredPrice { get; init; }
    public string? Reason { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    /// <summary>Wick protection, an ISO 8601 duration.</summary>
    public string? TriggerConfirmation { get; init; }
    /// <summary>When the trigger of a wick-protected order held: the end of its confirmation.</summary>
    public DateTimeOffset? ConfirmingUntil { get; init; }
    public FallbackResponse? Fallback { get; init; }
}

public sealed record FallbackResponse(string? After, decimal? WorstPrice, FallbackAction Action);

public sealed record OrderListResponse(string ListId, OrderListType Type, string Status, IReadOnlyList<OrderResponse> Orders);

public sealed record CancelledCountResponse(int Cancelled);

public sealed record FillResponse(
    string FillId,
    string? OrderId,
    string BucketId,
    string Symbol,
    OrderSide Side,
    decimal Quantity,
    decimal Price,
    decimal Fee,
    decimal RealizedPnl,
    Liquidity Liquidity,
    DateTimeOffset Timestamp);

public sealed record InstrumentResponse(
    string Symbol,
    decimal TickSize,
    decimal LotStep,
    decimal MinQuantity,
    decimal MinNotional,
    int MaxLeverage,
    decimal MaintenanceMarginRate,
    decimal MakerFeeRate,
    decimal TakerFeeRate);

public sealed record SourcePriceResponse(string Source, decimal Price, DateTimeOffset Timestamp, bool Included);

/// <summary>A symbol's prices; null until the first tick arrives.</summary>
public sealed record PriceResponse(
    string Symbol,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? Last,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? Index,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] decimal? Mark,
    bool Degraded,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] DateTimeOffset? Timestamp,
    IReadOnlyList<SourcePriceResponse> Sources);

public sealed record AcceptedTicksResponse(int Accepted);

/// <summary>What a kill switch call did (or, released, that it is off).</summary>
public sealed record KillSwitchResponse(string AccountId, string? BucketId, bool Active, int CancelledOrders, int ClosedPositions, int PendingPositions);

/// <summary>The dead man's switch: armed with its deadline, or not.</summary>
public sealed record CancelAllAfterResponse(string AccountId, bool Armed, DateTimeOffset? Deadline);

/// <summary>A symbol's halt state; reason, since and until while halted.</summary>
public sealed record SymbolStatusResponse(string Symbol, bool Halted, string? Reason = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null);
