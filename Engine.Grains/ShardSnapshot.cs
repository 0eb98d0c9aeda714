using Engine.Grains.Accounts;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Plans;

namespace Engine.Grains;

/// <summary>
/// The complete state of one shard as plain data: <see cref="ShardGrains.Restore"/> rebuilds a shard
/// whose state, and whose future decisions, equal the captured shard's. Prices are not part of it: they
/// come from the feed after a restart. Taken between batches, so that every event of the batches
/// before it is final (a batch may still rewrite its own trailing-extreme events).
/// </summary>
/// <remarks>
/// Immutable objects of the live shard (<see cref="OrderSpec"/>, <see cref="Fill"/>,
/// <see cref="SequencedEvent"/>, <see cref="OrderList"/>, <see cref="IdempotentResponse"/>) are shared,
/// not copied; everything mutable is copied, so a snapshot can be written while the shard moves on.
/// </remarks>
public sealed record ShardSnapshot
{
    public required long NextOrderNumber { get; init; }
    public required long NextFillNumber { get; init; }
    public required long NextPositionKey { get; init; }

    /// <summary>Accounts in no particular order.</summary>
    public required AccountSnapshot[] Accounts { get; init; }

    /// <summary>
    /// Every order the shard holds (live ones and the recent done ones). The first
    /// <see cref="IndexedOrders"/> are those with a trigger-book entry, in the order the entries were
    /// made, which is the order equal triggers fire in; the rest are in no book.
    /// </summary>
    public required OrderSnapshot[] Orders { get; init; }

    public required int IndexedOrders { get; init; }

    /// <summary>Parents with the children their fill arms, in arming order (may name forgotten orders).</summary>
    public required OrderChildren[] Children { get; init; }

    /// <summary>
    /// The good-till-date queue exactly as laid out in memory (heap order, including entries of orders
    /// that ended since): restored as is, the queue is the same, not merely equivalent.
    /// </summary>
    public required ExpiryEntry[] Expiries { get; init; }

    /// <summary>Every plan, each account's in creation order (snapshots before plans existed have none).</summary>
    public PlanSnapshot[] Plans { get; init; } = [];

    /// <summary>Halted symbols (risk controls). Empty in snapshots written before they existed.</summary>
    public SymbolHaltEntry[] Halts { get; init; } = [];

    /// <summary>Wick-protected orders waiting for the end of their trigger confirmation.</summary>
    public ConfirmationEntry[] Confirmations { get; init; } = [];

    /// <summary>Copy strategies, each account's in creation order (format 5 on).</summary>
    public StrategySnapshot[] Strategies { get; init; } = [];

    /// <summary>Copy subscriptions, each account's in creation order (format 5 on).</summary>
    public SubscriptionSnapshot[] Subscriptions { get; init; } = [];
}

/// <summary>An account with its buckets and its recent history.</summary>
public sealed record AccountSnapshot
{
    public required AccountId Id { get; init; }
    public required string Name { get; init; }
    public required string ApiKeyHash { get; init; }
    public required decimal WalletBalance { get; init; }
    public required BucketId ManualBucket { get; init; }
    public required long BucketCount { get; init; }
    public required long ListCount { get; init; }
    public required long EventSequence { get; init; }

    /// <summary>In creation order.</summary>
    public required BucketSnapshot[] Buckets { get; init; }

    /// <summary>Oldest first: the order they are forgotten in.</summary>
    public required long[] RecentDoneOrders { get; init; }

    /// <summary>Client ids in the order they are forgotten in, with what each maps to.</summary>
    public required ClientIdEntry[] ClientOrderIds { get; init; }

    public required OrderList[] Lists { get; init; }

    /// <summary>Idempotency keys in the order they are forgotten in, with their responses.</summary>
    public required IdempotencyEntry[] Idempotency { get; init; }

    /// <summary>Oldest first.</summary>
    public required IReadOnlyList<Fill> Fills { get; init; }

    /// <summary>Oldest first.</summary>
    public required SequencedEvent[] Events { get; init; }

    /// <summary>The account-wide kill switch.</summary>
    public bool KillSwitch { get; init; }

    /// <summary>The dead man's switch's deadline, when armed.</summary>
    public DateTimeOffset? CancelAllAfter { get; init; }
}

public sealed record BucketSnapshot
{
    public required BucketId Id { get; init; }
    public required string Name { get; init; }
    public required BucketKind Kind { get; init; }
    public required decimal Balance { get; init; }
    public required decimal RealizedPnl { get; init; }
    public required PositionSnapshot[] Positions { get; init; }
    public required LeverageSetting[] Leverage { get; init; }
    public bool KillSwitch { get; init; }
    public decimal? DailyLossLimit { get; init; }
    public decimal LossBaseline { get; init; }
    public DateTimeOffset LossDay { get; init; }
    public bool LossLocked { get; init; }
}

/// <summary>
/// A position. <see cref="LevelRank"/> places its liquidation level among the trigger-book entries:
/// it was made just before the entry of <c>Orders[LevelRank]</c> (<c>Orders.Length</c>: after all of
/// them); -1 when it has none.
/// </summary>
public sealed record PositionSnapshot(
    long Key,
    string Symbol,
    decimal Quantity,
    decimal EntryPrice,
    int Leverage,
    decimal Margin,
    decimal? LiquidationPrice,
    int LevelRank);

public readonly record struct LeverageSetting(string Symbol, int Leverage);

/// <summary>
/// A queued client id. <see cref="Mapped"/> is false for a queue entry whose mapping is already gone
/// (then <see cref="Order"/> and <see cref="BodyHash"/> mean nothing).
/// </summary>
public readonly record struct ClientIdEntry(string ClientId, bool Mapped, long Order, string? BodyHash);

/// <summary>A queued idempotency key; <see cref="Response"/> is null when its mapping is already gone.</summary>
public readonly record struct IdempotencyEntry(string Key, IdempotentResponse? Response);

/// <summary>
/// An order's state: its immutable <see cref="Spec"/>, where it stands, and
/// <see cref="TrailingExtreme"/>, the extreme a live trailing stop follows now (else null).
/// <see cref="Progress"/> is null while the order is as accepted (not amended, armed, triggered,
/// filled or ended), which is most of the orders a big shard holds: the snapshot stays small.
/// </summary>
public readonly record struct OrderSnapshot(
    AccountId Account,
    OrderSpec Spec,
    OrderStatus Status,
    OrderPhase Phase,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    decimal? TrailingExtreme,
    OrderProgress? Progress);

/// <summary>The fields of an order that change after acceptance, when any has.</summary>
public sealed record OrderProgress(
    decimal Quantity,
    decimal? Price,
    decimal? TriggerPrice,
    decimal? CallbackRate,
    decimal? CallbackAmount,
    decimal FilledQuantity,
    decimal AverageFillPrice,
    decimal? TriggeredPrice,
    DateTimeOffset? TriggeredAt,
    string? Reason);

public sealed record OrderChildren(long Parent, long[] Children);

public readonly record struct ExpiryEntry(long Order, DateTimeOffset At);

/// <summary>
/// A plan's state: its immutable <see cref="Spec"/>, where its current occurrence stands, the orders
/// it follows (in the order it placed them) and its history, oldest first.
/// </summary>
public sealed record PlanSnapshot
{
    public required AccountId Account { get; init; }
    public required PlanSpec Spec { get; init; }
    public required PlanStatus Status { get; init; }
    public required DateTimeOffset EventAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
    public decimal? ReferencePrice { get; init; }
    public decimal? Quantity { get; init; }
    public ListId? List { get; init; }
    public required decimal NetQuantity { get; init; }
    public required decimal RealizedPnl { get; init; }
    public required decimal Fees { get; init; }
    public required decimal OccurrenceRealizedPnl { get; init; }
    public required decimal OccurrenceFees { get; init; }
    public required PlanOrder[] TrackedOrders { get; init; }
    public required PlanHistoryEntry[] History { get; init; }
}

/// <summary>A halted symbol: why, since when, until when (null: until a condition or an operator).</summary>
public readonly record struct SymbolHaltEntry(string Symbol, string Reason, DateTimeOffset Since, DateTimeOffset? Until);

/// <summary>A confirming order: the price its trigger held at and when its confirmation ends.</summary>
public readonly record struct ConfirmationEntry(long Order, decimal Price, DateTimeOffset Until);

/// <summary>A signal still in a strategy's outbox, with the follower shards that have not acknowledged it.</summary>
public sealed record OutboxEntry(CopyTrading.CopySignal Signal, int[] Shards);

/// <summary>A copy strategy: its definition, state, followers (by shard, in joining order), outbox and the leader protections followers copy.</summary>
public sealed record StrategySnapshot
{
    public required StrategyId Id { get; init; }
    public required AccountId Leader { get; init; }
    public required BucketId Bucket { get; init; }
    public required string Name { get; init; }
    public string? Description { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required CopyTrading.StrategyStatus Status { get; init; }
    public DateTimeOffset? ClosedAt { get; init; }
    public bool ClosedWithPositions { get; init; }
    public required long LastSequence { get; init; }
    public required decimal Pnl { get; init; }
    public required CopyTrading.StrategyFollower[] Followers { get; init; }
    public required OutboxEntry[] Outbox { get; init; }
    public required long[] Protections { get; init; }
}

/// <summary>A follower's copy of a leader take-profit or stop-loss.</summary>
public readonly record struct ProtectionLink(long LeaderOrder, long Order);

/// <summary>A copy subscription with its last applied signal, its protections and its newest outcomes.</summary>
public sealed record SubscriptionSnapshot
{
    public required AccountId Account { get; init; }
    public required CopyTrading.SubscriptionSpec Spec { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required CopyTrading.SubscriptionStatus Status { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? EndReason { get; init; }
    public bool ClosedPositions { get; init; }
    public required long LastSequence { get; init; }
    public required ProtectionLink[] Protections { get; init; }
    public required Events.CopyOutcomeRecorded[] Outcomes { get; init; }
}
