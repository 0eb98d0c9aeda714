using Engine.Grains.Common;

namespace Engine.Grains.CopyTrading;

/// <summary>What a subscription is: its ids, its bucket, its allocation (USDT) and settings.</summary>
public sealed record SubscriptionSpec
{
    public required SubscriptionId Id { get; init; }
    public required StrategyId Strategy { get; init; }
    public required AccountId Leader { get; init; }
    public required BucketId Bucket { get; init; }
    public required decimal Allocation { get; init; }
    public required CopySettings Settings { get; init; }
    public string? ClientOrderId { get; init; }
}

/// <summary>
/// One follower's outcome for one signal. <see cref="LeaderQuantity"/> and <see cref="Quantity"/> are in
/// base units (the follower's order, 0 when skipped); <see cref="Order"/> is the follower's order number.
/// </summary>
public sealed record CopyOutcomeEntry(
    long Sequence,
    CopySignalKind Kind,
    string Symbol,
    decimal LeaderQuantity,
    decimal Quantity,
    CopyOutcome Outcome,
    string? Reason,
    long? Order,
    long? LeaderOrder,
    DateTimeOffset At);

/// <summary>
/// A copy subscription grain: it lives with the follower's account and owns the follower's copy
/// bucket. <see cref="LastSequence"/> is the newest signal it recorded an outcome for: a signal at or
/// below it is a re-delivery and changes nothing, which makes delivery exactly once.
/// </summary>
public sealed class Subscription(AccountId account, SubscriptionSpec spec, DateTimeOffset createdAt)
{
    public AccountId Account { get; } = account;
    public SubscriptionSpec Spec { get; } = spec;
    public SubscriptionId Id => Spec.Id;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public SubscriptionStatus Status { get; internal set; }
    public DateTimeOffset? EndedAt { get; internal set; }
    public string? EndReason { get; internal set; }
    public bool ClosedPositions { get; internal set; }
    public long LastSequence { get; internal set; }
    /// <summary>The follower's copies of the leader's live take-profits and stop-losses: leader order → follower order.</summary>
    public SortedDictionary<long, long> Protections { get; } = [];
    /// <summary>The newest outcomes, oldest first.</summary>
    public BoundedLog<CopyOutcomeEntry> Outcomes { get; } = new();
}
