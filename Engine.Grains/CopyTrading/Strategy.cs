namespace Engine.Grains.CopyTrading;

/// <summary>A follower as the strategy knows it; <see cref="AfterSequence"/> is the last signal it does not get.</summary>
public sealed record StrategyFollower(SubscriptionId Subscription, AccountId Account, int Shard, decimal Allocation, long AfterSequence);

/// <summary>A signal the strategy journaled and some follower shards have not acknowledged yet (the outbox).</summary>
public sealed class PendingSignal(CopySignal signal, SortedSet<int> shards)
{
    public CopySignal Signal { get; } = signal;
    /// <summary>Follower shards that have not acknowledged it.</summary>
    public SortedSet<int> Shards { get; } = shards;
}

/// <summary>
/// A copy strategy grain: it lives with the leader's account and watches one of its buckets. Every fill
/// in that bucket (and every take-profit or stop-loss placed, amended or ended there) becomes a signal,
/// journaled with the fill, and kept until every follower shard acknowledged it.
/// </summary>
public sealed class Strategy(StrategyId id, AccountId leader, BucketId bucket, string name, string? description, DateTimeOffset createdAt)
{
    public StrategyId Id { get; } = id;
    public AccountId Leader { get; } = leader;
    public BucketId Bucket { get; } = bucket;
    public string Name { get; } = name;
    public string? Description { get; } = description;
    public DateTimeOffset CreatedAt { get; } = createdAt;
    public StrategyStatus Status { get; internal set; }
    public DateTimeOffset? ClosedAt { get; internal set; }
    /// <summary>Whether closing the strategy flattened its followers' buckets.</summary>
    public bool ClosedWithPositions { get; internal set; }
    /// <summary>The last signal's sequence (0 before the first).</summary>
    public long LastSequence { get; internal set; }
    /// <summary>Leader realized PnL minus fees in the bucket since publishing (USDT).</summary>
    public decimal Pnl { get; internal set; }
    /// <summary>Active followers by subscription.</summary>
    public Dictionary<SubscriptionId, StrategyFollower> Followers { get; } = [];
    /// <summary>The same followers by shard, each list in the order they joined: the order a shard mirrors them in.</summary>
    public SortedDictionary<int, List<StrategyFollower>> ByShard { get; } = [];

    internal void AddFollower(StrategyFollower follower)
    {
        Followers[follower.Subscription] = follower;
        if (!ByShard.TryGetValue(follower.Shard, out var list)) ByShard[follower.Shard] = list = [];
        list.Add(follower);
    }

    internal void RemoveFollower(SubscriptionId subscription)
    {
        if (!Followers.Remove(subscription, out var follower)) return;
        var list = ByShard[follower.Shard];
        list.RemoveAll(f => f.Subscription == subscription);
        if (list.Count == 0) ByShard.Remove(follower.Shard);
    }
    /// <summary>Signals not yet acknowledged by every follower shard, oldest first.</summary>
    public SortedDictionary<long, PendingSignal> Outbox { get; } = [];
    /// <summary>The leader's live take-profit and stop-loss orders in the bucket that followers copy.</summary>
    public SortedSet<long> Protections { get; } = [];

    public decimal Allocated
    {
        get
        {
            var sum = 0m;
            foreach (var f in Followers.Values) sum += f.Allocation;
            return sum;
        }
    }
}
