using Engine.Grains.Accounts;
using Engine.Grains.Common;
using Engine.Grains.Events;
using Engine.Grains.Margin;

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
/// A copy subscription grain: it lives with the follower's account and owns the follower's copy
/// bucket. <see cref="LastSequence"/> is the newest signal it recorded an outcome for: a signal at or
/// below it is a re-delivery and changes nothing, which makes delivery exactly once.
/// </summary>
public sealed class Subscription(Account owner, Bucket bucket, SubscriptionSpec spec, DateTimeOffset createdAt)
{
    public AccountId Account => Owner.Id;

    /// <summary>The follower's account and the copy bucket, held so a fan-out finds them without a lookup per follower.</summary>
    internal Account Owner { get; } = owner;

    internal Bucket Bucket { get; } = bucket;

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
    public BoundedLog<CopyOutcomeRecorded> Outcomes { get; } = new();
}
