using System.Text.Json.Serialization;
using Engine.Grains.Margin;
using Engine.Grains.Orders;
using Engine.Grains.Pricing;

namespace Engine.Grains.Events;

/// <summary>
/// Something that happened in a shard. Events are the journal's content: applying them in order to
/// an empty shard rebuilds exactly the live state. <see cref="At"/> is the engine time (UTC) of the
/// command or tick that produced the event.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(AccountOpened), "accountOpened")]
[JsonDerivedType(typeof(FundsDeposited), "fundsDeposited")]
[JsonDerivedType(typeof(FundsWithdrawn), "fundsWithdrawn")]
[JsonDerivedType(typeof(BucketCreated), "bucketCreated")]
[JsonDerivedType(typeof(FundsTransferred), "fundsTransferred")]
[JsonDerivedType(typeof(LeverageSet), "leverageSet")]
[JsonDerivedType(typeof(CommandRejected), "commandRejected")]
[JsonDerivedType(typeof(IdempotentResponseRecorded), "idempotentResponseRecorded")]
[JsonDerivedType(typeof(OrderAccepted), "orderAccepted")]
[JsonDerivedType(typeof(OrderListAccepted), "orderListAccepted")]
[JsonDerivedType(typeof(OrderActivated), "orderActivated")]
[JsonDerivedType(typeof(TrailingStopActivated), "trailingStopActivated")]
[JsonDerivedType(typeof(OrderTriggered), "orderTriggered")]
[JsonDerivedType(typeof(OrderFilled), "orderFilled")]
[JsonDerivedType(typeof(OrderAmended), "orderAmended")]
[JsonDerivedType(typeof(OrderCancelled), "orderCancelled")]
[JsonDerivedType(typeof(OrderExpired), "orderExpired")]
[JsonDerivedType(typeof(OrderRejected), "orderRejected")]
[JsonDerivedType(typeof(PositionLiquidated), "positionLiquidated")]
[JsonDerivedType(typeof(TrailingExtremesMoved), "trailingExtremesMoved")]
[JsonDerivedType(typeof(PlanCreated), "planCreated")]
[JsonDerivedType(typeof(PlanArmed), "planArmed")]
[JsonDerivedType(typeof(PlanArmSkipped), "planArmSkipped")]
[JsonDerivedType(typeof(PlanDisarmed), "planDisarmed")]
[JsonDerivedType(typeof(PlanFlattened), "planFlattened")]
[JsonDerivedType(typeof(PlanCompleted), "planCompleted")]
[JsonDerivedType(typeof(PlanRescheduled), "planRescheduled")]
[JsonDerivedType(typeof(PlanCancelled), "planCancelled")]
[JsonDerivedType(typeof(SymbolHalted), "symbolHalted")]
[JsonDerivedType(typeof(SymbolResumed), "symbolResumed")]
[JsonDerivedType(typeof(KillSwitchEngaged), "killSwitchEngaged")]
[JsonDerivedType(typeof(KillSwitchReleased), "killSwitchReleased")]
[JsonDerivedType(typeof(CancelAllAfterSet), "cancelAllAfterSet")]
[JsonDerivedType(typeof(CancelAllAfterTriggered), "cancelAllAfterTriggered")]
[JsonDerivedType(typeof(DailyLossLimitSet), "dailyLossLimitSet")]
[JsonDerivedType(typeof(DailyLossLimitReached), "dailyLossLimitReached")]
[JsonDerivedType(typeof(DailyLossLockReleased), "dailyLossLockReleased")]
[JsonDerivedType(typeof(BucketDayStarted), "bucketDayStarted")]
[JsonDerivedType(typeof(TriggerConfirmationStarted), "triggerConfirmationStarted")]
[JsonDerivedType(typeof(TriggerConfirmationFailed), "triggerConfirmationFailed")]
[JsonDerivedType(typeof(OrderConvertedToMarket), "orderConvertedToMarket")]
[JsonDerivedType(typeof(StrategyPublished), "strategyPublished")]
[JsonDerivedType(typeof(StrategyClosed), "strategyClosed")]
[JsonDerivedType(typeof(CopyFollowerAdded), "copyFollowerAdded")]
[JsonDerivedType(typeof(CopyFollowerRemoved), "copyFollowerRemoved")]
[JsonDerivedType(typeof(CopySignalEmitted), "copySignalEmitted")]
[JsonDerivedType(typeof(CopySignalAcknowledged), "copySignalAcknowledged")]
[JsonDerivedType(typeof(CopySubscribed), "copySubscribed")]
[JsonDerivedType(typeof(CopyOutcomeRecorded), "copyOutcomeRecorded")]
[JsonDerivedType(typeof(CopySubscriptionEnded), "copySubscriptionEnded")]
public abstract record EngineEvent
{
    // Engine time is UTC: ticks take half the room of a DateTimeOffset, in every event an account's history keeps.
    private long _at;

    public required DateTimeOffset At { get => new(_at, TimeSpan.Zero); init => _at = value.UtcTicks; }
}

/// <summary>An account event about one of its orders (by the order's number in the account).</summary>
public interface IOrderEvent
{
    long Order { get; }
}

/// <summary>An event that belongs to one account; the account's event stream shows these.</summary>
public abstract record AccountEvent : EngineEvent
{
    public required AccountId Account { get; init; }
}

public sealed record AccountOpened(string Name, string ApiKeyHash, BucketId ManualBucket) : AccountEvent;

/// <summary>USDT credited to the wallet by the operator.</summary>
public sealed record FundsDeposited(decimal Amount) : AccountEvent;

public sealed record FundsWithdrawn(decimal Amount) : AccountEvent;

/// <summary>A bucket created with <paramref name="Allocation"/> USDT moved in from the wallet.</summary>
public sealed record BucketCreated(BucketId Bucket, string Name, BucketKind Kind, decimal Allocation) : AccountEvent;

public enum TransferDirection
{
    /// <summary>Wallet to bucket.</summary>
    In = 0,
    /// <summary>Bucket to wallet.</summary>
    Out = 1,
}

public sealed record FundsTransferred(BucketId Bucket, TransferDirection Direction, decimal Amount) : AccountEvent;

public sealed record LeverageSet(BucketId Bucket, string Symbol, int Leverage) : AccountEvent;

/// <summary>A business rejection of a command: recorded so that the owner can read why.</summary>
public sealed record CommandRejected(string Command, string Code, string Detail) : AccountEvent;

/// <summary>The response of an idempotent request, kept so that a repeat answers the same.</summary>
public sealed record IdempotentResponseRecorded(string Key, string BodyHash, int Status, string Body) : AccountEvent;

/// <summary>An order entered the engine; <paramref name="BodyHash"/> identifies the request behind its clientOrderId.</summary>
public sealed record OrderAccepted(OrderSpec Order, OrderStatus Status, OrderPhase Phase, string? BodyHash = null) : AccountEvent;

public sealed record OrderListAccepted(ListId List, OrderListType ListType, long[] Orders, string? ClientOrderId, string? BodyHash) : AccountEvent;

/// <summary>A pending child armed after its parent filled, with its final quantity and prices.</summary>
public sealed record OrderActivated(long Order, decimal Quantity, decimal? TriggerPrice, decimal? Price, OrderPhase Phase) : AccountEvent, IOrderEvent;

/// <summary>A trailing stop's activation price was reached; it now follows the extreme from <paramref name="Extreme"/>.</summary>
public sealed record TrailingStopActivated(long Order, decimal Extreme) : AccountEvent, IOrderEvent;

/// <summary>The order's condition held at <paramref name="Price"/> (the watched price).</summary>
public sealed record OrderTriggered(long Order, decimal Price) : AccountEvent, IOrderEvent;

/// <summary>
/// A fill. <paramref name="Fee"/> is a positive cost in USDT; <paramref name="RealizedPnl"/> is the
/// PnL realized by the closing part of the fill, before the fee.
/// </summary>
public sealed record OrderFilled(long Order, long Fill, decimal Quantity, decimal Price, decimal Fee, decimal RealizedPnl, Liquidity Liquidity) : AccountEvent, IOrderEvent;

public sealed record OrderAmended(long Order, decimal Quantity, decimal? Price, decimal? TriggerPrice, decimal? CallbackRate, decimal? CallbackAmount) : AccountEvent, IOrderEvent;

public sealed record OrderCancelled(long Order, string Reason) : AccountEvent, IOrderEvent;

public sealed record OrderExpired(long Order, string Reason) : AccountEvent, IOrderEvent;

public sealed record OrderRejected(long Order, string Reason) : AccountEvent, IOrderEvent;

/// <summary>
/// A position closed at mark <paramref name="Price"/> because its margin was exhausted.
/// <paramref name="RealizedPnl"/> is the loss, never more than the position's margin.
/// </summary>
public sealed record PositionLiquidated(BucketId Bucket, string Symbol, long Fill, decimal Quantity, decimal Price, decimal RealizedPnl) : AccountEvent;

/// <summary>
/// Every trailing stop of the symbol and source that fires in <paramref name="Direction"/> moved its
/// extreme toward <paramref name="Price"/> (Fall-firing: max, Rise-firing: min). Coalesced per batch.
/// </summary>
public sealed record TrailingExtremesMoved(string Symbol, TriggerSource Source, TriggerDirection Direction, decimal Price) : EngineEvent;
