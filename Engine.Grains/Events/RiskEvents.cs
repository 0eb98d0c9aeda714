namespace Engine.Grains.Events;

// Risk controls (kill switches, dead man's switch, daily loss limits, symbol halts, wick protection,
// stop-limit gap fallbacks). Money in USDT; a loss is a positive amount.

/// <summary>
/// Triggering is paused for <paramref name="Symbol"/> (every shard records it): orders wait for the resume.
/// <paramref name="Since"/> is when the halt began as the price service decided it (the same in every
/// shard; a halt whose reason changes keeps it).
/// </summary>
public sealed record SymbolHalted(string Symbol, string Reason, DateTimeOffset Since, DateTimeOffset? Until) : EngineEvent;

/// <summary>Triggering resumed for <paramref name="Symbol"/>; waiting orders were evaluated at the prices of that moment.</summary>
public sealed record SymbolResumed(string Symbol, string Reason) : EngineEvent;

/// <summary>The kill switch is on for the whole account (<paramref name="Bucket"/> null) or for one bucket: no new orders there.</summary>
public sealed record KillSwitchEngaged(BucketId? Bucket) : AccountEvent;

public sealed record KillSwitchReleased(BucketId? Bucket) : AccountEvent;

/// <summary>The dead man's switch: unless set again before <paramref name="Deadline"/>, the entry orders are cancelled then. Null disarms it.</summary>
public sealed record CancelAllAfterSet(DateTimeOffset? Deadline) : AccountEvent;

/// <summary>The dead man's switch reached its deadline (the entry orders' cancellations follow); it is disarmed.</summary>
public sealed record CancelAllAfterTriggered(DateTimeOffset Deadline) : AccountEvent;

/// <summary>
/// The bucket's daily loss limit (null removes it). <paramref name="Baseline"/> is the equity the day's
/// loss is measured from (the equity when the limit was set), <paramref name="Day"/> the UTC day (00:00).
/// </summary>
public sealed record DailyLossLimitSet(BucketId Bucket, decimal? Limit, decimal Baseline, DateTimeOffset Day) : AccountEvent;

/// <summary>The bucket lost <paramref name="Loss"/> since the day's start, at or beyond <paramref name="Limit"/>: it is locked and flattened.</summary>
public sealed record DailyLossLimitReached(BucketId Bucket, decimal Loss, decimal Limit) : AccountEvent;

/// <summary>The owner released the loss lock by hand; the day's loss counts again from <paramref name="Baseline"/>.</summary>
public sealed record DailyLossLockReleased(BucketId Bucket, decimal Baseline) : AccountEvent;

/// <summary>A new UTC day for a bucket with a daily loss limit: its lock (if any) ends, its loss counts from <paramref name="Baseline"/>.</summary>
public sealed record BucketDayStarted(BucketId Bucket, DateTimeOffset Day, decimal Baseline) : AccountEvent;

/// <summary>
/// A wick-protected order's trigger held at <paramref name="Price"/>: it fires only if the price is still
/// beyond the trigger at <paramref name="Until"/>. It has left the trigger book meanwhile.
/// </summary>
public sealed record TriggerConfirmationStarted(long Order, decimal Price, DateTimeOffset Until) : AccountEvent, IOrderEvent;

/// <summary>At the end of its confirmation the price (<paramref name="Price"/>) was back: the order waits in the book again.</summary>
public sealed record TriggerConfirmationFailed(long Order, decimal Price) : AccountEvent, IOrderEvent;

/// <summary>A triggered stop-limit's gap fallback: its resting limit became a market order (its execution follows).</summary>
public sealed record OrderConvertedToMarket(long Order, string Reason) : AccountEvent, IOrderEvent;
