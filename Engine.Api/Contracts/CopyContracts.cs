using Engine.Grains;
using Engine.Grains.CopyTrading;
using Engine.Grains.Events;

namespace Engine.Api.Contracts;

// Optional members have default values: the OpenAPI generator lists every constructor parameter
// without one as required.

/// <summary>Publishes a strategy on one of the leader's buckets.</summary>
public sealed record StrategyRequestBody
{
    public string? AccountId { get; init; }
    public string? BucketId { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    public string? ClientOrderId { get; init; }
}

/// <summary>
/// A subscription. <c>sizing.mode</c> is equityRatio, fixedRatio (with <c>ratio</c>) or fixedNotional (with
/// <c>notional</c>, USDT per increase); <c>slippageLimit</c> a fraction of the leader's fill price;
/// <c>onInsufficientMargin</c> scaleDown or skip.
/// </summary>
public sealed record SubscriptionRequestBody
{
    public string? AccountId { get; init; }
    public decimal? Allocation { get; init; }
    public CopySizingBody? Sizing { get; init; }
    public int? MaxLeverage { get; init; }
    public decimal? MaxPositionNotional { get; init; }
    public decimal? SlippageLimit { get; init; }
    public string[]? Symbols { get; init; }
    public bool? CopyTakeProfitStopLoss { get; init; }
    public string? OnInsufficientMargin { get; init; }
    public string? ClientOrderId { get; init; }
}

public sealed record CopySizingBody(string? Mode = null, decimal? Ratio = null, decimal? Notional = null);

/// <summary>A strategy with its statistics: active followers, their allocated capital (USDT), and the leader's PnL in the bucket since publishing (realized, after fees).</summary>
public sealed record StrategyResponse(
    StrategyId StrategyId,
    string Name,
    string? Description,
    AccountId LeaderAccountId,
    BucketId BucketId,
    StrategyStatus Status,
    int Followers,
    decimal Allocated,
    decimal Pnl,
    long Signals,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt = null,
    bool? ClosePositions = null);

public sealed record CopySizingResponse(CopySizingMode Mode, decimal? Ratio = null, decimal? Notional = null);

/// <summary>A subscription and its copy bucket; <c>lastSignalId</c> is the newest signal it recorded an outcome for.</summary>
public sealed record SubscriptionResponse(
    SubscriptionId SubscriptionId,
    StrategyId StrategyId,
    AccountId AccountId,
    AccountId LeaderAccountId,
    BucketId BucketId,
    SubscriptionStatus Status,
    decimal Allocation,
    CopySizingResponse Sizing,
    bool CopyTakeProfitStopLoss,
    InsufficientMarginPolicy OnInsufficientMargin,
    DateTimeOffset CreatedAt,
    int? MaxLeverage = null,
    decimal? MaxPositionNotional = null,
    decimal? SlippageLimit = null,
    string[]? Symbols = null,
    string? LastSignalId = null,
    DateTimeOffset? EndedAt = null,
    string? EndReason = null,
    bool? ClosePositions = null);

/// <summary>
/// One signal's outcome for the subscription. <c>signal</c> says what the leader did (fill, or a take-profit or
/// stop-loss placed, amended or cancelled); quantities in base units; <c>orderId</c> is the follower's order.
/// </summary>
public sealed record CopyOutcomeResponse(
    string SignalId,
    CopySignalKind Signal,
    string Symbol,
    decimal LeaderQuantity,
    decimal Quantity,
    CopyOutcome Outcome,
    DateTimeOffset Timestamp,
    string? Reason = null,
    string? OrderId = null);

public static class CopyViews
{
    public static StrategyResponse Strategy(Strategy s) => new(
        s.Id, s.Name, s.Description, s.Leader, s.Bucket, s.Status, s.Followers.Count, s.Allocated, s.Pnl, s.LastSequence, s.CreatedAt,
        s.ClosedAt, s.Status == StrategyStatus.Closed ? s.ClosedWithPositions : null);

    public static SubscriptionResponse Subscription(Subscription s)
    {
        var c = s.Spec.Settings;
        return new SubscriptionResponse(
            s.Id, s.Spec.Strategy, s.Account, s.Spec.Leader, s.Spec.Bucket, s.Status, s.Spec.Allocation,
            new CopySizingResponse(c.Mode, c.Ratio, c.Notional), c.CopyTakeProfitStopLoss, c.OnInsufficientMargin, s.CreatedAt,
            c.MaxLeverage, c.MaxPositionNotional, c.SlippageLimit, c.Symbols,
            s.LastSequence > 0 ? CopySignal.IdOf(s.Spec.Strategy, s.LastSequence) : null,
            s.EndedAt, s.EndReason, s.Status == SubscriptionStatus.Ended ? s.ClosedPositions : null);
    }

    public static CopyOutcomeResponse Outcome(Subscription s, CopyOutcomeRecorded o) => new(
        CopySignal.IdOf(s.Spec.Strategy, o.Sequence), o.Kind, o.Symbol, o.LeaderQuantity, o.Quantity, o.Outcome, o.At, o.Reason,
        o.Order is { } n ? new OrderId(s.Account, n).ToString() : null);
}
