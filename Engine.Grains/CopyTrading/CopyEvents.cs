using Engine.Grains.CopyTrading;

namespace Engine.Grains.Events;

/// <summary>Something that happened to a copy strategy (on the leader's account) or a subscription (on the follower's).</summary>
public abstract record CopyEvent : AccountEvent;

/// <summary>The leader published a strategy on <paramref name="Bucket"/>.</summary>
public sealed record StrategyPublished(StrategyId Strategy, BucketId Bucket, string Name, string? Description) : CopyEvent;

/// <summary>The leader closed the strategy; its subscriptions end with <paramref name="ClosePositions"/> (flatten, or keep as manual buckets).</summary>
public sealed record StrategyClosed(StrategyId Strategy, bool ClosePositions) : CopyEvent;

/// <summary>
/// The strategy registered a follower (on follower shard <paramref name="Shard"/>, with <paramref name="Allocation"/> USDT);
/// it gets the signals after <paramref name="AfterSequence"/>.
/// </summary>
public sealed record CopyFollowerAdded(StrategyId Strategy, SubscriptionId Subscription, AccountId Follower, int Shard, decimal Allocation, long AfterSequence) : CopyEvent;

public sealed record CopyFollowerRemoved(StrategyId Strategy, SubscriptionId Subscription) : CopyEvent;

/// <summary>
/// A signal of the strategy, journaled with the leader event it mirrors (the outbox): it is delivered to
/// follower shards <paramref name="Shards"/>, and re-delivered after a restart until each acknowledged it.
/// </summary>
public sealed record CopySignalEmitted(StrategyId Strategy, CopySignal Signal, int[] Shards) : CopyEvent;

/// <summary>Follower shard <paramref name="Shard"/> made its outcomes for the signal durable.</summary>
public sealed record CopySignalAcknowledged(StrategyId Strategy, long Sequence, int Shard) : CopyEvent;

/// <summary>A follower subscribed (its copy bucket was created just before, by a bucketCreated event).</summary>
public sealed record CopySubscribed(SubscriptionSpec Spec, string? BodyHash) : CopyEvent;

/// <summary>The one outcome of signal <paramref name="Sequence"/> for a subscription (its order's events come before it).</summary>
public sealed record CopyOutcomeRecorded(
    SubscriptionId Subscription,
    long Sequence,
    CopySignalKind Kind,
    string Symbol,
    decimal LeaderQuantity,
    decimal Quantity,
    CopyOutcome Outcome,
    string? Reason,
    long? Order,
    long? LeaderOrder) : CopyEvent;

/// <summary>
/// The subscription ended (<paramref name="Reason"/>: unsubscribed or strategy_closed). With
/// <paramref name="ClosePositions"/> its positions were closed and its balance returned before; without, its
/// bucket stays as a manual bucket.
/// </summary>
public sealed record CopySubscriptionEnded(SubscriptionId Subscription, bool ClosePositions, string Reason) : CopyEvent;
