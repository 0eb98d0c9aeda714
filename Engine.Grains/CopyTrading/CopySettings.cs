namespace Engine.Grains.CopyTrading;

public enum CopySizingMode
{
    /// <summary>Leader quantity × follower bucket equity / leader bucket equity.</summary>
    EquityRatio = 0,
    /// <summary>Leader quantity × a fixed ratio.</summary>
    FixedRatio = 1,
    /// <summary>Each increase opens a fixed notional (USDT) at the leader's fill price.</summary>
    FixedNotional = 2,
}

public enum InsufficientMarginPolicy
{
    /// <summary>Copy the largest quantity the bucket can afford.</summary>
    ScaleDown = 0,
    /// <summary>Copy nothing.</summary>
    Skip = 1,
}

/// <summary>
/// A follower's copy settings. <see cref="Ratio"/> is for fixedRatio; <see cref="Notional"/> (USDT) for
/// fixedNotional; <see cref="MaxPositionNotional"/> in USDT; <see cref="SlippageLimit"/> a fraction of the
/// leader's fill price; <see cref="Symbols"/> null copies every symbol.
/// </summary>
public sealed record CopySettings
{
    public required CopySizingMode Mode { get; init; }
    public decimal? Ratio { get; init; }
    public decimal? Notional { get; init; }
    public int? MaxLeverage { get; init; }
    public decimal? MaxPositionNotional { get; init; }
    public decimal? SlippageLimit { get; init; }
    public string[]? Symbols { get; init; }
    public bool CopyTakeProfitStopLoss { get; init; }
    public InsufficientMarginPolicy OnInsufficientMargin { get; init; }
}

public enum CopyOutcome
{
    Copied = 0,
    ScaledDown = 1,
    Skipped = 2,
}

public enum CopySignalKind
{
    /// <summary>A leader fill (entry, scale-in, reduction, close, flip, liquidation, a stop or take-profit filling).</summary>
    Fill = 0,
    /// <summary>The leader placed (or armed) a reduce-only take-profit or stop-loss.</summary>
    ProtectionPlaced = 1,
    /// <summary>The leader amended one.</summary>
    ProtectionAmended = 2,
    /// <summary>One ended without filling (cancelled, expired, rejected).</summary>
    ProtectionCancelled = 3,
}

public enum StrategyStatus
{
    Active = 0,
    Closed = 1,
}

public enum SubscriptionStatus
{
    Active = 0,
    Ended = 1,
}

/// <summary>The stable codes of skipped (and scaled-down) copies.</summary>
public static class CopyReasons
{
    public const string InsufficientMargin = "insufficient_margin";
    public const string BelowMinimum = "below_minimum";
    public const string Slippage = "slippage";
    public const string SymbolNotAllowed = "symbol_not_allowed";
    public const string BucketLocked = Orders.OrderReasons.BucketLocked;
    public const string MaxPositionNotional = "max_position_notional";
    public const string SymbolHalted = "symbol_halted";
    public const string NoPrice = "no_price";
    public const string NoPosition = "no_position";
    public const string TakeProfitStopLossNotCopied = "tpsl_not_copied";
    public const string NotCopied = "not_copied";
    public const string LeaderFilled = "leader_filled";
    public const string LeaderCancelled = "leader_cancelled";
    public const string Unsubscribed = "unsubscribed";
    public const string StrategyClosed = "strategy_closed";
}
