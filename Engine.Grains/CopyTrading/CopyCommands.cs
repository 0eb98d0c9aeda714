using Engine.Grains.CopyTrading;

namespace Engine.Grains;

/// <summary>The leader publishes a strategy on one of its buckets.</summary>
public sealed record PublishStrategy(BucketId Bucket, string Name, string? Description) : Command;

/// <summary>The leader closes its strategy; the runtime then ends every subscription the same way.</summary>
public sealed record CloseStrategy(StrategyId Strategy, bool ClosePositions) : Command;

/// <summary>Issued by the runtime on the leader's account: registers a follower (idempotent).</summary>
public sealed record AddCopyFollower(StrategyId Strategy, SubscriptionId Subscription, AccountId Follower, int Shard, decimal Allocation) : Command;

/// <summary>Issued by the runtime on the leader's account: forgets a follower whose subscription ended (idempotent).</summary>
public sealed record RemoveCopyFollower(StrategyId Strategy, SubscriptionId Subscription) : Command;

/// <summary>Issued by the runtime on the leader's account: follower shard <paramref name="Shard"/> has the signal's outcomes durable.</summary>
public sealed record AcknowledgeCopySignal(StrategyId Strategy, long Sequence, int Shard) : Command;

/// <summary>
/// A follower subscribes to a strategy (on the follower's account): <paramref name="Allocation"/> USDT moves
/// from the wallet into a new copy bucket. The runtime checked the strategy is active and gives its leader.
/// </summary>
public sealed record Subscribe(StrategyId Strategy, AccountId Leader, decimal Allocation, CopySettings Settings, string? ClientOrderId, string? BodyHash) : Command;

/// <summary>Ends a subscription: flatten and return the balance, or keep the bucket as a manual one.</summary>
public sealed record EndSubscription(SubscriptionId Subscription, bool ClosePositions, string Reason) : Command;
