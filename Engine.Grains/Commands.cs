using Engine.Grains.Events;
using Engine.Grains.Margin;
using Engine.Grains.Orders;

namespace Engine.Grains;

/// <summary>A request to change one account's state. Amounts in USDT.</summary>
public abstract record Command
{
    public required AccountId Account { get; init; }
}

public sealed record OpenAccount(string Name, string ApiKeyHash) : Command;

public sealed record Deposit(decimal Amount) : Command;

public sealed record Withdraw(decimal Amount) : Command;

/// <summary>A new bucket funded with <paramref name="Allocation"/> from the wallet, with an optional daily loss limit (USDT).</summary>
public sealed record CreateBucket(string Name, decimal Allocation, BucketKind Kind = BucketKind.Manual, decimal? DailyLossLimit = null) : Command;

public sealed record TransferFunds(BucketId Bucket, TransferDirection Direction, decimal Amount) : Command;

public sealed record SetLeverage(BucketId Bucket, string Symbol, int Leverage) : Command;

/// <summary><paramref name="BodyHash"/> tells a repeat of the same request from a conflicting one.</summary>
public sealed record PlaceOrder(OrderRequest Request, string? BodyHash) : Command;

public sealed record PlaceOrderList(OrderListRequest Request, string? BodyHash) : Command;

public sealed record AmendOrder(long Order, decimal? Quantity, decimal? Price, decimal? TriggerPrice, decimal? CallbackRate) : Command;

public sealed record CancelOrder(long Order) : Command;

public sealed record CancelOrders(string? Symbol, BucketId? Bucket) : Command;

public sealed record ClosePosition(BucketId Bucket, string Symbol) : Command;

/// <summary>Records an idempotent response; issued by the runtime after the command it answers.</summary>
public sealed record RecordIdempotentResponse(string Key, string BodyHash, int Status, string Body) : Command;

/// <summary>The outcome of a command: the events it produced, or why it was refused.</summary>
public sealed record CommandResult(Common.Rejection? Rejection, IReadOnlyList<EngineEvent> Events, object? Value = null, bool Replayed = false)
{
    public bool Succeeded => Rejection is null;
}
